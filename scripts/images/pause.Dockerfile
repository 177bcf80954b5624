# The Pod sandbox image: Kubernetes' own pause.c, compiled statically by scripts/cluster-images.
FROM scratch
COPY pause /pause
ENTRYPOINT ["/pause"]
LABEL io.vipcast.cluster-image=pause
