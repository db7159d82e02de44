FROM debian:12.5
RUN apt-get install --no-install-recommends curl=7.88
RUN apt-get -y install --no-install-recommends curl=7.88 && rm -rf /var/lib/apt/lists/*
RUN apt-get -qq install --no-install-recommends a=1 && apt-get --yes install --no-install-recommends b=1 && apt-get --assume-yes install --no-install-recommends c=1 && rm -rf /var/lib/apt/lists/*
RUN apt-get -q install --no-install-recommends f=1 && rm -rf /var/lib/apt/lists/*
RUN DEBIAN_FRONTEND=noninteractive apt-get install --no-install-recommends g=1 && rm -rf /var/lib/apt/lists/*
CMD ["sh"]
