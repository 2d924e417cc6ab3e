# soc2-operator. `make help` lists the targets.

# Image to build and deploy.
IMG ?= ghcr.io/soc2-operator/soc2-operator:dev
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# Pinned versions of the local control plane (see hack/control-plane.sh).
KUBERNETES_VERSION ?= v1.37.2
ETCD_VERSION ?= v3.6.6
export KUBERNETES_VERSION ETCD_VERSION

CONTROLLER_GEN ?= go tool controller-gen
GO_TEST_FLAGS ?= -timeout 45m
LDFLAGS := -s -w -X github.com/soc2-operator/soc2-operator/internal/version.Version=$(VERSION)

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: ## Generate the DeepCopy methods of api/.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: manifests
manifests: ## Generate the CRDs (config/crd/bases) and the RBAC role (config/rbac) from markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: verify
verify: ## Fail when a generated file is stale, code is not gofmt'ed, or go vet complains.
	hack/verify.sh

##@ Test

.PHONY: control-plane
control-plane: ## Build (once, then cached) kube-apiserver, etcd and kubectl from the Go module proxy.
	hack/control-plane.sh

.PHONY: test
test: control-plane ## Run every test, on the real control plane.
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" go test $(GO_TEST_FLAGS) ./...

##@ Build

.PHONY: build
build: ## Build bin/soc2-operator.
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o bin/soc2-operator .

.PHONY: run
run: ## Run the manager against the cluster of the current kubeconfig.
	go run . manager --metrics-bind-address=:8080 --metrics-secure=false --log-format=console

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build --build-arg VERSION=$(VERSION) -t $(IMG) .
