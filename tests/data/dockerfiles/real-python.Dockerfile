# syntax=docker/dockerfile:1.6
ARG PYTHON_VERSION=3.12
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libpq-dev \
    # headers for psycopg
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt
COPY . .
RUN pip install --no-cache-dir --prefix=/install .

FROM python:${PYTHON_VERSION}-slim
LABEL org.opencontainers.image.source="https://example.invalid/app"
RUN apt-get update && apt-get install -y libpq5 && apt-get clean
COPY --from=build /install /usr/local
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
RUN useradd --create-home app
USER app
WORKDIR /home/app
EXPOSE 8000
HEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1
CMD gunicorn app:app --bind 0.0.0.0:8000
