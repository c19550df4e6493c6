package deploy

import (
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
)

// workload is a pod template with the object that owns it.
type workload struct {
	kind, name string
	selector   *metav1.LabelSelector
	pod        corev1.PodTemplateSpec
}

// rendered sorts an overlay's objects by kind.
type rendered struct {
	secrets      map[string]*corev1.Secret
	services     map[string]*corev1.Service
	statefulSets []*appsv1.StatefulSet
	pdbs         []*policyv1.PodDisruptionBudget
	workloads    []workload
	names        []string
}

func sortObjects(t *testing.T, objs []runtime.Object) rendered {
	t.Helper()
	r := rendered{secrets: map[string]*corev1.Secret{}, services: map[string]*corev1.Service{}}
	for _, obj := range objs {
		m, ok := obj.(metav1.Object)
		if !ok {
			t.Fatalf("%T has no metadata", obj)
		}
		r.names = append(r.names, m.GetName())
		switch o := obj.(type) {
		case *corev1.Namespace:
		case *corev1.Secret:
			r.secrets[o.Name] = o
		case *corev1.Service:
			r.services[o.Name] = o
		case *appsv1.StatefulSet:
			r.statefulSets = append(r.statefulSets, o)
			r.workloads = append(r.workloads, workload{"StatefulSet", o.Name, o.Spec.Selector, o.Spec.Template})
		case *appsv1.Deployment:
			r.workloads = append(r.workloads, workload{"Deployment", o.Name, o.Spec.Selector, o.Spec.Template})
		case *batchv1.Job:
			if o.Spec.Selector != nil || o.Spec.ManualSelector != nil {
				t.Errorf("Job %s sets its own selector: let Kubernetes generate it", o.Name)
			}
			r.workloads = append(r.workloads, workload{"Job", o.Name, &metav1.LabelSelector{MatchLabels: o.Spec.Template.Labels}, o.Spec.Template})
		case *policyv1.PodDisruptionBudget:
			r.pdbs = append(r.pdbs, o)
		default:
			t.Errorf("unexpected object %T %s: add its checks", obj, m.GetName())
		}
	}
	return r
}

func TestOverlayInvariants(t *testing.T) {
	for _, o := range overlays(t) {
		t.Run(o, func(t *testing.T) {
			r := sortObjects(t, render(t, o))
			for _, n := range r.names {
				if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
					t.Errorf("name %q is not a DNS-1123 label: %v", n, errs)
				}
			}
			checkMaster(t, r)
			var agents int
			for _, w := range r.workloads {
				checkWorkload(t, r, w)
				if w.pod.Labels["app.kubernetes.io/component"] == "agent" {
					agents++
					checkAgent(t, r, w)
				}
			}
			if agents != 1 {
				t.Errorf("%d agent workloads, want 1", agents)
			}
		})
	}
}

// checkMaster: exactly one master, one replica, its database on a volume
// claim, a Service in front of it and a disruption budget.
func checkMaster(t *testing.T, r rendered) {
	t.Helper()
	if len(r.statefulSets) != 1 {
		t.Fatalf("%d StatefulSets, want the master's only", len(r.statefulSets))
	}
	ss := r.statefulSets[0]
	if ss.Spec.Replicas == nil || *ss.Spec.Replicas != 1 {
		t.Errorf("master replicas = %v, want exactly 1 (its SQLite database has one writer)", ss.Spec.Replicas)
	}
	c := container(t, ss.Spec.Template, "master")
	db, ok := flagValue(c.Args, "db")
	if !ok {
		t.Fatalf("master has no --db")
	}
	claim := mountOf(t, c, path.Dir(db))
	var found bool
	for _, v := range ss.Spec.VolumeClaimTemplates {
		found = found || v.Name == claim
	}
	if !found {
		t.Errorf("--db %s is on volume %q, not on one of the master's volume claims", db, claim)
	}
	if _, ok := r.services[ss.Spec.ServiceName]; !ok {
		t.Errorf("serviceName %q is not a rendered Service", ss.Spec.ServiceName)
	}
	listen, _ := flagValue(c.Args, "listen")
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatalf("master --listen %q: %v", listen, err)
	}
	checkProbesOn(t, c, port)
	var covered bool
	for _, p := range r.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err == nil && sel.Matches(labels.Set(ss.Spec.Template.Labels)) {
			covered = true
		}
	}
	if !covered {
		t.Errorf("no PodDisruptionBudget selects the master")
	}
}

// checkWorkload holds for every pod: selector matches, resources set,
// probes on declared ports, every Secret and key it names exists.
func checkWorkload(t *testing.T, r rendered, w workload) {
	t.Helper()
	sel, err := metav1.LabelSelectorAsSelector(w.selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(w.pod.Labels)) {
		t.Errorf("%s %s: selector %v does not match its pod labels %v", w.kind, w.name, w.selector, w.pod.Labels)
	}
	spec := w.pod.Spec
	if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
		t.Errorf("%s %s: pods must run as non-root", w.kind, w.name)
	}
	for _, v := range spec.Volumes {
		if v.Secret == nil {
			continue
		}
		s, ok := r.secrets[v.Secret.SecretName]
		if !ok {
			t.Errorf("%s %s: volume %s names Secret %q, which is not rendered", w.kind, w.name, v.Name, v.Secret.SecretName)
			continue
		}
		for _, it := range v.Secret.Items {
			if _, ok := s.Data[it.Key]; !ok {
				t.Errorf("%s %s: Secret %s has no key %q", w.kind, w.name, s.Name, it.Key)
			}
		}
	}
	for _, c := range spec.Containers {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[name]; !ok {
				t.Errorf("%s %s/%s: no %s request", w.kind, w.name, c.Name, name)
			}
		}
		if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
			t.Errorf("%s %s/%s: no memory limit", w.kind, w.name, c.Name)
		}
		if c.ReadinessProbe == nil || c.LivenessProbe == nil {
			t.Errorf("%s %s/%s: needs readiness and liveness probes", w.kind, w.name, c.Name)
		}
		for _, e := range c.Env {
			if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
				s, ok := r.secrets[ref.SecretKeyRef.Name]
				if _, has := s.Data[ref.SecretKeyRef.Key]; !ok || !has {
					t.Errorf("%s %s/%s: env %s names missing Secret key %s/%s", w.kind, w.name, c.Name, e.Name, ref.SecretKeyRef.Name, ref.SecretKeyRef.Key)
				}
			}
		}
		// Every file flag names a file that the pod mounts.
		for _, a := range c.Args {
			name, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			if !ok || !strings.HasSuffix(name, "-file") {
				continue
			}
			checkMountedFile(t, w, c, val)
		}
	}
}

// checkMountedFile: file lies in a Secret volume that holds it.
func checkMountedFile(t *testing.T, w workload, c corev1.Container, file string) {
	t.Helper()
	vol := mountOf(t, c, path.Dir(file))
	for _, v := range w.pod.Spec.Volumes {
		if v.Name != vol || v.Secret == nil {
			continue
		}
		base := path.Base(file)
		if len(v.Secret.Items) == 0 {
			return // every key of the Secret is a file; checkWorkload checked it exists
		}
		for _, it := range v.Secret.Items {
			if it.Path == base {
				return
			}
		}
		t.Errorf("%s %s/%s: %s is not among the items of volume %s", w.kind, w.name, c.Name, file, vol)
		return
	}
	t.Errorf("%s %s/%s: %s is not in a Secret volume", w.kind, w.name, c.Name, file)
}

// checkAgent: the agent talks to the master's Service by its DNS name,
// serves its health endpoints where its probes look, stops within the
// pod's grace period and asks for at least the memory its workers hold.
func checkAgent(t *testing.T, r rendered, w workload) {
	t.Helper()
	c := container(t, w.pod, "agent")
	master, ok := flagValue(c.Args, "master")
	if !ok {
		t.Fatalf("%s %s: no --master", w.kind, w.name)
	}
	u, err := url.Parse(master)
	if err != nil {
		t.Fatalf("--master %q: %v", master, err)
	}
	svcName, _, _ := strings.Cut(u.Hostname(), ".")
	svc, ok := r.services[svcName]
	if !ok {
		t.Errorf("--master host %q is not a rendered Service's DNS name", u.Hostname())
	} else {
		var portOK bool
		for _, p := range svc.Spec.Ports {
			portOK = portOK || strconv.Itoa(int(p.Port)) == u.Port()
		}
		if !portOK {
			t.Errorf("--master port %s is not a port of Service %s", u.Port(), svc.Name)
		}
	}
	hl, _ := flagValue(c.Args, "health-listen")
	_, port, err := net.SplitHostPort(hl)
	if err != nil {
		t.Fatalf("agent --health-listen %q: %v", hl, err)
	}
	checkProbesOn(t, c, port)
	grace, _ := flagValue(c.Args, "grace")
	g, err := parseSeconds(grace)
	if err != nil {
		t.Fatalf("agent --grace %q: %v", grace, err)
	}
	if tg := w.pod.Spec.TerminationGracePeriodSeconds; tg == nil || *tg <= g {
		t.Errorf("terminationGracePeriodSeconds %v must exceed --grace %s", tg, grace)
	}
	// A job carries its own part size (ferry job create --part-size, 8 MiB
	// unless set); an agent's --part-size would be ignored, so the pods
	// are sized for the default and the README says to raise the requests
	// with the part size of larger jobs.
	if _, ok := flagValue(c.Args, "part-size"); ok {
		t.Errorf("agent passes --part-size, which an agent ignores (jobs carry their part size)")
	}
	workers, _ := flagValue(c.Args, "workers")
	n, err := strconv.Atoi(workers)
	if err != nil {
		t.Fatalf("agent --workers %q: %v", workers, err)
	}
	need := int64(n) * defaultPartSize
	if req := c.Resources.Requests[corev1.ResourceMemory]; req.Value() < need {
		t.Errorf("agent memory request %s is below workers × part size (%d bytes)", req.String(), need)
	}
	if lim := c.Resources.Limits[corev1.ResourceMemory]; lim.Value() < 2*need {
		t.Errorf("agent memory limit %s leaves no room above workers × part size (%d bytes)", lim.String(), need)
	}
}

// checkProbesOn: both probes are HTTP GETs of /healthz and /readyz on the
// container port numbered port.
func checkProbesOn(t *testing.T, c corev1.Container, port string) {
	t.Helper()
	for _, p := range []struct {
		probe *corev1.Probe
		path  string
	}{{c.ReadinessProbe, "/readyz"}, {c.LivenessProbe, "/healthz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: want an HTTP %s probe", c.Name, p.path)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path {
			t.Errorf("%s: probe path %s, want %s", c.Name, g.Path, p.path)
		}
		got := g.Port.String()
		for _, cp := range c.Ports {
			if cp.Name == got {
				got = strconv.Itoa(int(cp.ContainerPort))
			}
		}
		if got != port {
			t.Errorf("%s: %s probe on port %s, but the process serves it on %s", c.Name, g.Path, g.Port.String(), port)
		}
	}
}

// container returns the pod's container called name.
func container(t *testing.T, pod corev1.PodTemplateSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q", name)
	return corev1.Container{}
}

// mountOf returns the volume mounted at dir in c.
func mountOf(t *testing.T, c corev1.Container, dir string) string {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) == path.Clean(dir) {
			return m.Name
		}
	}
	t.Errorf("%s: nothing is mounted at %s", c.Name, dir)
	return ""
}

// defaultPartSize is the part size of a job that sets none.
const defaultPartSize = 8 << 20

// parseSeconds reads a Go duration of whole seconds ("30s").
func parseSeconds(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSuffix(s, "s"), 10, 64)
	return n, err
}
