FROM continuumio/miniconda3:24.1.2-0
RUN conda install -y numpy pandas
RUN pip install --no-cache-dir flask==3.0.2 gunicorn
RUN apt-get update && apt-get install -y --no-install-recommends \
      # needed for matplotlib fonts
      fonts-dejavu \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
RUN echo "export PATH=/opt/conda/bin:$PATH" >> ~/.bashrc && cd / && ls
STOPSIGNAL SIGINT
CMD ["gunicorn", "app:app"]
