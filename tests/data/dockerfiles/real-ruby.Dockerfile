FROM ruby:3.3-slim AS base
RUN apt-get update -qq && apt-get install --no-install-recommends -y build-essential libpq-dev nodejs \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /rails
COPY Gemfile Gemfile.lock ./
RUN gem install bundler -v 2.5.6 && bundle install --jobs 4
COPY . .
FROM base AS base
RUN bundle exec rake assets:precompile
FROM ruby:3.3-slim
COPY --from=base /rails /rails
COPY --from=base /usr/local/bundle /usr/local/bundle
WORKDIR /rails
EXPOSE 3000
CMD ["bin/rails", "server"]
