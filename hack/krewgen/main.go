// Command krewgen writes the krew manifest of the kubectl plugin (kubectl soc2): a
// krew.googlecontainertools.github.com/v1alpha2 Plugin named soc2, one platform per release
// archive, each with the archive's download URI and SHA-256.
//
// A release runs `make krew VERSION=x.y.z`, which runs
//
//	go run ./hack/krewgen --version vX.Y.Z --build -o dist/krew
//
// to cross-compile the binary as kubectl-soc2 for every platform, pack each with the LICENSE
// into dist/krew/kubectl-soc2_vX.Y.Z_<os>_<arch>.tar.gz (.zip for Windows), and write
// dist/krew/soc2.yaml with their SHA-256 and the URIs they will have once uploaded to the
// release (--url-base). Upload the archives to the release, then propose soc2.yaml to
// kubernetes-sigs/krew-index. Without --build, krewgen reads archives already in the -o
// directory (built by another pipeline) and only writes the manifest.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// Platform is one os/arch the plugin is released for.
type Platform struct{ OS, Arch string }

// DefaultPlatforms are the platforms a release builds.
var DefaultPlatforms = []Platform{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"}}

// The krew manifest types: the fields of sigs.k8s.io/krew/pkg/index (v0.4.3) that a plugin
// manifest uses. krew's module is not imported: its go.mod requires
// k8s.io/client-go v11.0.0+incompatible, which would displace the project's client-go.
type (
	Manifest struct {
		APIVersion string     `json:"apiVersion"`
		Kind       string     `json:"kind"`
		Metadata   Metadata   `json:"metadata"`
		Spec       PluginSpec `json:"spec"`
	}
	Metadata struct {
		Name string `json:"name"`
	}
	PluginSpec struct {
		Version          string          `json:"version"`
		Homepage         string          `json:"homepage"`
		ShortDescription string          `json:"shortDescription"`
		Description      string          `json:"description"`
		Caveats          string          `json:"caveats,omitempty"`
		Platforms        []PlatformEntry `json:"platforms"`
	}
	PlatformEntry struct {
		Selector Selector        `json:"selector"`
		URI      string          `json:"uri"`
		Sha256   string          `json:"sha256"`
		Files    []FileOperation `json:"files"`
		Bin      string          `json:"bin"`
	}
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	}
	FileOperation struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
)

const (
	pluginName  = "soc2"
	binaryName  = "kubectl-soc2"
	homepage    = "https://github.com/soc2-operator/soc2-operator"
	defaultBase = homepage + "/releases/download"
)

// ArchiveName is the release archive of a platform.
func ArchiveName(version string, p Platform) string {
	ext := ".tar.gz"
	if p.OS == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("%s_%s_%s_%s%s", binaryName, version, p.OS, p.Arch, ext)
}

func binName(p Platform) string {
	if p.OS == "windows" {
		return binaryName + ".exe"
	}
	return binaryName
}

var semver = regexp.MustCompile(`^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// Generate is the manifest for the archives in dir, with URIs under urlBase/version/.
func Generate(version, urlBase, dir string, platforms []Platform) (*Manifest, error) {
	if !semver.MatchString(version) {
		return nil, fmt.Errorf("--version %q: krew wants a semantic version with a leading v (v0.1.0)", version)
	}
	m := &Manifest{
		APIVersion: "krew.googlecontainertools.github.com/v1alpha2",
		Kind:       "Plugin",
		Metadata:   Metadata{Name: pluginName},
		Spec: PluginSpec{
			Version:          version,
			Homepage:         homepage,
			ShortDescription: "Show SOC 2 compliance reports and approve exceptions",
			Description: `kubectl soc2 reads the ComplianceReports that soc2-operator keeps per namespace:
  kubectl soc2 status -A                  each namespace's SOC 2 criteria
  kubectl soc2 findings NS --criterion CC6.1   a namespace's failing findings
  kubectl soc2 explain wl-privileged      what a check checks, why, how to fix it
  kubectl soc2 request-exception ...      request a reviewed, time-boxed ControlException
  kubectl soc2 approve NAME -n NS         approve one someone else requested
`,
			Caveats: `The plugin reads what soc2-operator writes: install the operator in the cluster first
(https://github.com/soc2-operator/soc2-operator#install). Reading reports needs get/list on
compliancereports (the compliance-viewer-role); approving needs the approve verb on
controlexceptions/approval (the soc2-operator-controlexception-approver-role).
`,
		},
	}
	for _, p := range platforms {
		name := ArchiveName(version, p)
		sum, err := fileSHA256(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("archive for %s/%s: %w (build it with --build, or put the release's archives in %s)", p.OS, p.Arch, err, dir)
		}
		files := []FileOperation{{From: binName(p), To: "."}, {From: "LICENSE", To: "."}}
		m.Spec.Platforms = append(m.Spec.Platforms, PlatformEntry{
			Selector: Selector{MatchLabels: map[string]string{"os": p.OS, "arch": p.Arch}},
			URI:      strings.TrimSuffix(urlBase, "/") + "/" + version + "/" + name,
			Sha256:   sum,
			Files:    files,
			Bin:      binName(p),
		})
	}
	return m, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Pack writes the archive of platform p into dir: the binary as kubectl-soc2 (.exe on
// Windows) and the license, with fixed times and modes so the same inputs give the same bytes.
func Pack(dir, version string, p Platform, binary, license string) (string, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return "", err
	}
	lic, err := os.ReadFile(license)
	if err != nil {
		return "", fmt.Errorf("the archive must carry the license (krew-index requires one): %w", err)
	}
	files := []struct {
		name string
		mode int64
		data []byte
	}{{binName(p), 0o755, bin}, {"LICENSE", 0o644, lic}}
	var buf bytes.Buffer
	if p.OS == "windows" {
		zw := zip.NewWriter(&buf)
		for _, f := range files {
			h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
			h.SetMode(os.FileMode(f.mode))
			w, err := zw.CreateHeader(h)
			if err != nil {
				return "", err
			}
			if _, err := w.Write(f.data); err != nil {
				return "", err
			}
		}
		if err := zw.Close(); err != nil {
			return "", err
		}
	} else {
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for _, f := range files {
			if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
				return "", err
			}
			if _, err := tw.Write(f.data); err != nil {
				return "", err
			}
		}
		if err := tw.Close(); err != nil {
			return "", err
		}
		if err := gz.Close(); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, ArchiveName(version, p))
	return path, os.WriteFile(path, buf.Bytes(), 0o644)
}

// build cross-compiles the binary for p into dir, stamped with version.
func build(dir, version string, p Platform) (string, error) {
	out := filepath.Join(dir, "build", p.OS+"-"+p.Arch, binName(p))
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags",
		"-s -w -X github.com/soc2-operator/soc2-operator/internal/version.Version="+version, "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building for %s/%s: %w", p.OS, p.Arch, err)
	}
	return out, nil
}

func parsePlatforms(s string) ([]Platform, error) {
	var out []Platform
	for _, f := range strings.Split(s, ",") {
		os, arch, ok := strings.Cut(strings.TrimSpace(f), "/")
		if !ok || os == "" || arch == "" {
			return nil, fmt.Errorf("--platforms: %q is not os/arch", f)
		}
		out = append(out, Platform{os, arch})
	}
	return out, nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "krewgen:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("krewgen", flag.ContinueOnError)
	version := fs.String("version", "", "The release version, with a leading v (v0.1.0)")
	out := fs.String("o", "dist/krew", "The directory of the archives and of soc2.yaml")
	urlBase := fs.String("url-base", defaultBase, "Where the release's archives are downloaded from: URIs are URL-BASE/VERSION/ARCHIVE")
	doBuild := fs.Bool("build", false, "Cross-compile and pack the archives first")
	binary := fs.String("binary", "", "With --build: pack this binary instead of compiling (one platform only)")
	license := fs.String("license", "LICENSE", "The license file packed into each archive")
	platforms := fs.String("platforms", "", "Comma-separated os/arch list (default: linux, darwin and windows, amd64 and arm64)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ps := DefaultPlatforms
	if *platforms != "" {
		var err error
		if ps, err = parsePlatforms(*platforms); err != nil {
			return err
		}
	}
	if *binary != "" && len(ps) != 1 {
		return errors.New("--binary packs one platform's binary: give --platforms os/arch")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if *doBuild {
		for _, p := range ps {
			bin := *binary
			if bin == "" {
				var err error
				if bin, err = build(*out, *version, p); err != nil {
					return err
				}
			}
			path, err := Pack(*out, *version, p, bin, *license)
			if err != nil {
				return err
			}
			fmt.Fprintln(os.Stderr, "krewgen: wrote", path)
		}
		_ = os.RemoveAll(filepath.Join(*out, "build"))
	}
	m, err := Generate(*version, *urlBase, *out, ps)
	if err != nil {
		return err
	}
	data, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	path := filepath.Join(*out, pluginName+".yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "krewgen: wrote", path)
	return nil
}
