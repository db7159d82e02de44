FROM debian:12.5
RUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
RUN apt-get install -y --no-install-recommends curl=7.88 ./local.deb && rm -rf /var/lib/apt/lists/*
RUN apk add --no-cache musl
RUN apk add --no-cache musl=1.2 --virtual .deps
RUN pip install --no-cache-dir flask
RUN pip install --no-cache-dir flask==3.0 'click<9' ./pkg -e .
RUN pip install --no-cache-dir --index-url https://pypi.invalid/simple requests
RUN python3 -m pip install --no-cache-dir uvicorn
RUN npm install express
RUN npm install express@4 ./dir file.tgz
RUN npm install @scope/pkg
RUN gem install rails
RUN gem install rails -v 7.1 && gem install rack:3.0
CMD ["sh"]
