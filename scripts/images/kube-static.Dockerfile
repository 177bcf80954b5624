# An image for one static Kubernetes binary (kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd), tagged by scripts/cluster-images with the name kubeadm pulls. kubeadm's
# static Pods run the binary by name (`command: [kube-apiserver, ...]`), so PATH must find it.
FROM scratch
ARG BINARY
COPY $BINARY /usr/local/bin/$BINARY
ENV PATH=/usr/local/bin
LABEL io.vipcast.cluster-image=$BINARY
