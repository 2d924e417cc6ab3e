# soc2-operator. `make help` lists the targets.

# The operator's version and image. Releases pin the image by digest:
#   make bundle deploy IMG=ghcr.io/soc2-operator/soc2-operator:v0.1.0@sha256:<digest>
VERSION ?= 0.1.0
IMG ?= ghcr.io/soc2-operator/soc2-operator:v$(VERSION)
BUILD_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v$(VERSION))

# Pinned versions of the local control plane (see hack/control-plane.sh).
KUBERNETES_VERSION ?= v1.37.2
ETCD_VERSION ?= v3.6.6
export KUBERNETES_VERSION ETCD_VERSION

CONTROLLER_GEN ?= go tool controller-gen
GO_TEST_FLAGS ?= -timeout 45m -artifacts -outputdir $(CURDIR)/_artifacts
LDFLAGS := -s -w -X github.com/soc2-operator/soc2-operator/internal/version.Version=$(BUILD_VERSION)
KUSTOMIZE = $(shell hack/tool.sh kustomize)

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
manifests: ## Generate the CRDs (config/crd/bases), the RBAC role (config/rbac), the webhook (config/webhook) from markers, docs/rbac.md from the roles, and the chart's copies (make chart).
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac \
		output:webhook:artifacts:config=config/webhook
	go run ./hack/rbacdoc
	go run ./hack/chartgen --version $(VERSION)

.PHONY: chart
chart: ## Regenerate what the Helm chart (charts/soc2-operator) copies from config/ (CRDs, alerts, RBAC rules, webhook rules), its Chart.yaml and docs/helm.md.
	go run ./hack/chartgen --version $(VERSION)

.PHONY: docs
docs: ## Generate docs/checks.md from the check catalogue (internal/checks).
	go run ./hack/checksdoc

.PHONY: dashboard
dashboard: ## Generate config/grafana/soc2-operator-dashboard.json, the Grafana dashboard (hack/dashboardgen, Grafana Foundation SDK).
	go run ./hack/dashboardgen

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet on everything, the end-to-end tests (build tag e2e) and the offline build included.
	go vet -tags e2e ./...
	go vet -tags offline .

.PHONY: verify
verify: ## Fail when a generated file is stale, code is not gofmt'ed, or go vet complains.
	hack/verify.sh

##@ Test

.PHONY: control-plane
control-plane: ## Build (once, then cached) kube-apiserver, etcd and kubectl from the Go module proxy.
	hack/control-plane.sh

# Two tiers, by one rule: a test is end-to-end when it runs the operator as users do (the built
# binary, the demo, the kubectl plugin, a helm or krew install, the dashboard or evidence pack in
# Chromium); its file then starts with `//go:build e2e`. `make test` runs every other test (unit
# tests and the suites that run the operator's code in the test process on envtest's
# kube-apiserver and etcd); `make test-e2e` runs the packages that have e2e files, with the tag,
# which runs their other tests too. CI (.ci/run) runs both. Tests whose point is scale (a
# simulated year of journal, 2,000 exceptions in a namespace) skip under -short, which make
# test passes; make test-scale runs them. make test runs no vet pass (hack/testrun never vets;
# about 13 CPU-seconds): make verify vets every file, the e2e ones included.
TEST_ENV = SOC2_VERSITYGW="$$(hack/tool.sh versitygw)" SOC2_PROMTOOL="$$(hack/tool.sh promtool)" \
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)"
E2E_ENV = $(TEST_ENV) SOC2_CHROMIUM="$$(hack/chromium.sh)" SOC2_HELM="$$(hack/tool.sh helm)" \
	SOC2_KREW="$$(hack/tool.sh krew)" SOC2_KREW_VALIDATE="$$(hack/tool.sh validate-krew-manifest)"

.PHONY: test
test: control-plane kustomize versitygw promtool xmllint ## Run the unit tests and the in-process suites on a real kube-apiserver and etcd (envtest); not the end-to-end tests (make test-e2e) or benchmarks. Under a minute warm on two quiet cores (README, Development).
	mkdir -p _artifacts
	$(TEST_ENV) go run ./hack/testrun -bin $(TEST_BIN) -short $(GO_TEST_FLAGS) $$($(TEST_PACKAGES))

# TEST_BIN keeps make test's test binaries (hack/testrun): the go command links a package's
# binary again only when something it is built from changed. Linking was most of a warm run.
TEST_BIN ?= $(CURDIR)/bin/test

# TEST_PACKAGES are the packages with a test, fuzz target or example outside the e2e files:
# make test does not link those that hold only benchmarks (internal/scaletest and
# internal/ui/uibench: make bench and make test-scale run them, make verify type-checks them),
# about 7 CPU-seconds of linking to run nothing. One awk reads every test file of a package to
# its end: `grep ... | grep -q` under pipefail (SHELL) failed whenever grep -q stopped reading
# before the first grep finished writing (SIGPIPE), at random, and left that package out of make
# test: internal/checks (many test files) in every run since 5d0f1a7, controllers and
# internal/engine in some. `make test-packages` prints the list; make verify checks it.
TEST_PACKAGES = go list -f '{{.ImportPath}}{{range .TestGoFiles}} {{$$.Dir}}/{{.}}{{end}}{{range .XTestGoFiles}} {{$$.Dir}}/{{.}}{{end}}' ./... | \
	while read -r pkg files; do if [ -n "$$files" ] && awk '/^func (Test|Fuzz|Example)/ && !/^func TestMain\(/ { found = 1 } END { exit !found }' $$files; then echo "$$pkg"; fi; done

.PHONY: test-packages
test-packages: ## Print the packages make test runs (TEST_PACKAGES).
	@$(TEST_PACKAGES)

.PHONY: test-e2e
test-e2e: control-plane kustomize versitygw promtool helm krew-tools debian-packages ## Run the end-to-end tests (files tagged e2e): the operator binary against an API server that fails, the demo, the kubectl plugin, helm and krew installs, Chromium on the dashboard and the evidence pack (screenshots land in _artifacts/).
	mkdir -p _artifacts
	$(E2E_ENV) go test -tags e2e -short $(GO_TEST_FLAGS) $$($(E2E_PACKAGES))

# E2E_PACKAGES lists the packages that have test files only the e2e tag builds: their lists of
# test files differ with and without it.
E2E_PACKAGES = { go list -f '{{.ImportPath}} {{.TestGoFiles}} {{.XTestGoFiles}}' ./... && \
	go list -tags e2e -f '{{.ImportPath}} {{.TestGoFiles}} {{.XTestGoFiles}}' ./... ; } | sort | uniq -u | cut -d' ' -f1 | sort -u

.PHONY: test-unit
test-unit: versitygw xmllint ## Run the tests that need no control plane (the packages whose tests import neither envtest nor internal/testenv): seconds on a warm machine.
	mkdir -p _artifacts
	SOC2_VERSITYGW="$$(hack/tool.sh versitygw)" go run ./hack/testrun -bin $(TEST_BIN) -short $(GO_TEST_FLAGS) $$($(UNIT_PACKAGES))

# UNIT_PACKAGES lists the packages none of whose test variants depend on envtest or
# internal/testenv (which starts the control plane or the operator binary).
UNIT_PACKAGES = go list -test -f '{{if .ForTest}}{{.ForTest}} {{join .Deps " "}}{{end}}' ./... | \
	awk '{p[$$1]=1} /sigs\.k8s\.io\/controller-runtime\/pkg\/envtest( |$$)|soc2-operator\/internal\/testenv( |$$)/ {bad[$$1]=1} END {for (k in p) if (!bad[k]) print k}' | sort

.PHONY: demo
demo: control-plane ## Run the operator on a local control plane with sample workloads; Ctrl-C cleans up.
	@echo "==> Building the demo (the first build compiles every package: a few minutes; they print as they compile)"
	go run -v ./hack/demo $(DEMO_FLAGS)

.PHONY: demo-once
demo-once: control-plane ## Like demo, but exit after printing the reports (CI).
	go run -v ./hack/demo --once

.PHONY: bench
bench: control-plane ## Run the engine, scan, dashboard and operator benchmarks (one core for the engine).
	go test -run '^$$' -bench . -benchmem -cpu 1 ./internal/engine/
	go test -run '^$$' -bench . -benchmem ./internal/scan/
	go test -run '^$$' -bench . -benchmem ./internal/ui/uibench/
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" go test -run '^$$' -bench . -benchtime 5x ./internal/scaletest/

# SCALE_TESTS are the tests make test skips (-short) because their point is scale.
SCALE_TESTS = -run '^(TestThePackOfASimulatedYearMatchesTheSimulation|TestThousandsOfExceptionsDoNotCrowdOutTheRealWaiver|TestLargeConfigMapsCannotTimeTheWebhookOut)$$' \
	./internal/evidence/ ./internal/tenanttest/

.PHONY: test-scale
test-scale: control-plane ## Run the tests make test skips as scale tests (a simulated year of journal, 2,000 exceptions, 150 MiB of ConfigMaps beside an admission), then the operator against 10,000 workloads in 100 namespaces with 1,000 RBAC objects.
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" go test -count=1 $(SCALE_TESTS)
	KUBEBUILDER_ASSETS="$$(hack/control-plane.sh)" SOC2_SCALE_WORKLOADS=10000 SOC2_SCALE_NAMESPACES=100 SOC2_SCALE_RBAC=1000 \
		go test -timeout 30m -run '^$$' -bench . -benchtime 5x ./internal/scaletest/

.PHONY: promtool
promtool: ## Build (once, then cached; about 7 minutes cold here) promtool v0.316.0, which unit-tests the alerts of config/prometheus.
	@hack/tool.sh promtool >/dev/null

.PHONY: helm
helm: ## Build (once, then cached; 8 CPU-minutes cold) the Helm CLI v4.3.1, which lints, renders and installs charts/soc2-operator in the tests.
	@hack/tool.sh helm >/dev/null

.PHONY: krew-tools
krew-tools: ## Build (once, then cached) krew and validate-krew-manifest v0.4.3, which check and install the kubectl plugin's krew manifest in the tests.
	@hack/tool.sh krew >/dev/null
	@hack/tool.sh validate-krew-manifest >/dev/null

.PHONY: versitygw
versitygw: ## Build (once, then cached) versitygw, the S3-compatible server the journal's s3 store is tested against.
	@hack/tool.sh versitygw >/dev/null

.PHONY: debian-packages
debian-packages: xmllint ## Install the Debian packages tests drive when missing (apt-get): chromium (browser tests) and libxml2-utils (xmllint, the JUnit schema check).
	@hack/chromium.sh >/dev/null

.PHONY: xmllint
xmllint: ## Install Debian's libxml2-utils when xmllint is missing (apt-get): the JUnit schema check of scan's tests.
	@hack/apt.sh xmllint libxml2-utils >/dev/null

.PHONY: kustomize
kustomize: ## Build (once, then cached) kustomize from the Go module proxy.
	@hack/tool.sh kustomize >/dev/null

.PHONY: bundle
bundle: manifests kustomize ## Regenerate the OLM bundle (bundle/, bundle.Dockerfile) from config/.
	$(KUSTOMIZE) build config/enforcement | go run ./hack/bundlegen --version $(VERSION) --image $(IMG)

##@ Build

.PHONY: build
build: ## Build bin/soc2-operator.
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o bin/soc2-operator .

.PHONY: build-offline
build-offline: ## Build bin/offline/soc2-operator: only scan, checks and version (-tags offline), for CI jobs; it links no Kubernetes client and starts in about half the time (README, How fast).
	CGO_ENABLED=0 go build -trimpath -tags offline -ldflags "$(LDFLAGS)" -o bin/offline/soc2-operator .

.PHONY: clean
clean: ## Remove what builds and tests leave in the checkout: bin/ (with make test's binaries, about 1 GB) and _artifacts/. The caches in ~/.cache/soc2-operator stay.
	rm -rf bin _artifacts

.PHONY: kubectl-plugin
kubectl-plugin: build ## Build bin/kubectl-soc2, the kubectl plugin: the operator binary under the plugin's name (put bin/ on PATH, then `kubectl soc2`).
	ln -sf soc2-operator bin/kubectl-soc2

.PHONY: krew
krew: ## Cross-compile kubectl-soc2 for every platform, pack the release archives into dist/krew and write the krew manifest dist/krew/soc2.yaml with their SHA-256 (see hack/krewgen).
	go run ./hack/krewgen --version v$(VERSION) --build -o dist/krew

.PHONY: run
run: ## Run the manager against the cluster of the current kubeconfig.
	go run . manager --metrics-bind-address=:8080 --metrics-secure=false --log-format=console

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	docker build --build-arg VERSION=$(BUILD_VERSION) -t $(IMG) .

.PHONY: bundle-build
bundle-build: ## Build the bundle image (needs a Docker engine).
	docker build -f bundle.Dockerfile -t $(IMG:soc2-operator:%=soc2-operator-bundle:%) .

.PHONY: build-installer
build-installer: manifests kustomize ## Write dist/install.yaml: everything `make deploy` applies, in one file.
	mkdir -p dist
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default > dist/install.yaml
	git checkout -- config/manager/kustomization.yaml 2>/dev/null || true

##@ Deploy

.PHONY: install
install: manifests kustomize ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: kustomize ## Remove the CRDs (and with them every profile, exception and report).
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the operator (config/default) to the cluster of the current kubeconfig.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -
	git checkout -- config/manager/kustomization.yaml 2>/dev/null || true

.PHONY: undeploy
undeploy: kustomize ## Remove the operator (config/default).
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -
