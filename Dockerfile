# syntax=docker/dockerfile:1
# Builds a static soc2-operator binary into a distroless, non-root image.
FROM golang:1.26 AS builder
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /workspace
COPY go.mod go.sum ./
RUN go mod download
COPY *.go ./
COPY api/ api/
COPY controllers/ controllers/
COPY internal/ internal/
RUN CGO_ENABLED=0 GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath \
      -ldflags "-s -w -X github.com/soc2-operator/soc2-operator/internal/version.Version=${VERSION}" \
      -o soc2-operator .

FROM gcr.io/distroless/static:nonroot
WORKDIR /
COPY --from=builder /workspace/soc2-operator /soc2-operator
USER 65532:65532
ENTRYPOINT ["/soc2-operator"]
