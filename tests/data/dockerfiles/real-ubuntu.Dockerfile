FROM ubuntu
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update
RUN apt-get install -y software-properties-common curl git
RUN apt-get -y upgrade
RUN cd /opt && git clone https://example.invalid/repo.git && cd repo && make install
RUN sudo apt-get install -y vim
RUN gem install bundler && bundle install
RUN yum install -y epel-release
COPY . /srv
WORKDIR /srv
CMD ["./start.sh"]
CMD ["./really-start.sh"]
