// Package deploy tests Ferry's deployment files: the kustomize overlays
// under k8s/ and the systemd units under systemd/. It is its own module so
// that the main module does not depend on client-go.
package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
)

// overlays are the kustomize overlays an operator applies.
func overlays(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("k8s/overlays/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no overlays under k8s/overlays (%v)", err)
	}
	var names []string
	for _, d := range dirs {
		names = append(names, filepath.Base(d))
	}
	return names
}

// render copies k8s/ into a temporary directory, writes its secrets with
// the shipped make-secrets.sh (as an operator does) and renders overlay
// with kubectl's kustomize. It returns the rendered documents, each decoded
// strictly with client-go's scheme: an unknown or duplicated field fails.
func render(t *testing.T, overlay string) []runtime.Object {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("kubectl (with kustomize) is needed to render the manifests: %v", err)
	}
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-r", "k8s", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy k8s: %v: %s", err, out)
	}
	root := filepath.Join(dir, "k8s")
	// A copy of an operator's checkout may hold secrets already; the test
	// makes its own.
	os.RemoveAll(filepath.Join(root, "base", "secrets"))
	if out, err := exec.Command("sh", filepath.Join(root, "base", "make-secrets.sh")).CombinedOutput(); err != nil {
		t.Fatalf("make-secrets.sh: %v: %s", err, out)
	}
	for _, f := range []string{"admin-token", "cluster-token", "metrics-token", "secret-key"} {
		st, err := os.Stat(filepath.Join(root, "base", "secrets", f))
		if err != nil || st.Size() == 0 || st.Mode().Perm() != 0o600 {
			t.Fatalf("make-secrets.sh did not write %s as a non-empty 0600 file (%v)", f, err)
		}
	}
	var stderr bytes.Buffer
	cmd := exec.Command("kubectl", "kustomize", filepath.Join(root, "overlays", overlay))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v: %s", overlay, err, stderr.String())
	}
	dec := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	var objs []runtime.Object
	for i, doc := range splitYAML(out) {
		obj, gvk, err := dec.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s: document %d does not decode strictly: %v\n%s", overlay, i, err, doc)
		}
		if gvk.Kind == "" {
			t.Fatalf("%s: document %d has no kind", overlay, i)
		}
		objs = append(objs, obj)
	}
	if len(objs) == 0 {
		t.Fatalf("%s renders nothing", overlay)
	}
	return objs
}

// splitYAML splits a multi-document YAML stream at its "---" lines.
func splitYAML(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(b, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func TestOverlaysRender(t *testing.T) {
	for _, o := range overlays(t) {
		t.Run(o, func(t *testing.T) {
			objs := render(t, o)
			kinds := map[string]int{}
			for _, obj := range objs {
				kinds[fmt.Sprintf("%T", obj)]++
			}
			t.Logf("%s: %v", o, kinds)
		})
	}
}

// flagValue returns the value of --name in args ("--name=v" or "--name v"),
// and whether it is there.
func flagValue(args []string, name string) (string, bool) {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
		if a == "--"+name {
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				return args[i+1], true
			}
			return "", true
		}
	}
	return "", false
}
