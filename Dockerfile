# syntax=docker/dockerfile:1
# The Flywheel server as a container image. docs/install.md#container says how to run it and what was checked.
#
#   docker build -t flywheel .
#   docker run --rm -v flywheel-data:/data flywheel keys create --scope admin     # once: prints the admin key (last word)
#   docker run -d --name flywheel -p 127.0.0.1:5005:5005 -v flywheel-data:/data flywheel
#
# The server listens on every interface of the container, which it refuses to do until the store holds an API key:
# create one first (above), or pass FLYWHEEL_INSECURE=true for a throwaway container nobody else can reach.

# Stage 1: publish with the SDK, on the builder's own platform, for the target's architecture.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG TARGETARCH
WORKDIR /src
# .dockerignore keeps the context to what the build reads: the props, global.json, eng/ and src/.
COPY . .
# With TARGETARCH (BuildKit, buildx, podman) the output carries that architecture's SQLite library only; without it, the
# portable layout for every architecture.
RUN --mount=type=cache,target=/root/.nuget/packages \
    dotnet publish src/Flywheel.Cli -c Release ${TARGETARCH:+-a $TARGETARCH} --no-self-contained --disable-build-servers -o /app

# Stage 2: the ASP.NET Core runtime, no SDK, running as the image's non-root user (app, uid $APP_UID).
FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# The data directory belongs to that user, so that a new named volume mounted there is writable by it.
RUN mkdir /data && chown "$APP_UID" /data
USER $APP_UID
VOLUME /data
ENV FLYWHEEL_DATA_DIR=/data \
    FLYWHEEL_URLS=http://0.0.0.0:5005 \
    ASPNETCORE_HTTP_PORTS=
EXPOSE 5005
# Liveness: `flywheel probe` asks http://127.0.0.1:5005/healthz (the image has no curl). Readiness is `probe --ready`.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["dotnet", "/app/flywheel.dll", "probe"]
ENTRYPOINT ["dotnet", "/app/flywheel.dll"]
CMD ["serve"]
