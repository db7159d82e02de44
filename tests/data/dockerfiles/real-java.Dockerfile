FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /build
COPY pom.xml .
RUN mvn -B dependency:go-offline
COPY src ./src
RUN mvn -B package -DskipTests
FROM eclipse-temurin:21-jre
ARG JAR=target/app.jar
WORKDIR /app
COPY --from=0 /build/${JAR} app.jar
COPY --from=build /build/target/lib ./lib
EXPOSE 8080 8443 9000-9010
ENTRYPOINT ["java", "-jar", "app.jar"]
