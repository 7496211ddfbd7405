# plainsight in a container: a live sensor on the host's network, or files analysed from a volume.
#   docker build -t plainsight .
#   docker run --rm --cap-add NET_RAW --net=host plainsight live -i eth0 --no-tui --alerts -
#   docker run --rm -v "$PWD:/data:ro" plainsight read /data/capture.pcap
# Build: the Rust toolchain image, with libpcap's headers.
FROM rust:1-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpcap-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin plainsight \
    && install -m 755 target/release/plainsight /usr/local/bin/plainsight

# Run: Debian slim with libpcap only, as an unprivileged user. The binary carries cap_net_raw as a file
# capability (a non-root user gets no capability otherwise), which the container grants with
# --cap-add NET_RAW; plainsight drops it once the capture is open.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpcap0.8 libcap2-bin \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/plainsight /usr/bin/plainsight
RUN setcap cap_net_raw=eip /usr/bin/plainsight \
    && apt-get purge -y libcap2-bin && apt-get autoremove -y \
    && useradd --system --user-group --home-dir /var/lib/plainsight --create-home --shell /usr/sbin/nologin plainsight \
    && chmod 700 /var/lib/plainsight
USER plainsight
WORKDIR /var/lib/plainsight
VOLUME ["/var/lib/plainsight"]
ENTRYPOINT ["plainsight"]
CMD ["--help"]
