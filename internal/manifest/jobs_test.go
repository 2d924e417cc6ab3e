package manifest

import (
	"maps"
	"testing"
)

// TestLabelJobPods: a Job's pod template gets the job-name labels the API server adds on create,
// except with manualSelector: true, and a label the template sets is kept.
func TestLabelJobPods(t *testing.T) {
	for name, c := range map[string]struct {
		doc  string
		want map[string]string
	}{
		"no labels": {
			doc:  "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  template:\n    spec: {containers: [{name: c, image: x}]}\n",
			want: map[string]string{"job-name": "migrate", "batch.kubernetes.io/job-name": "migrate"},
		},
		"labels of its own": {
			doc:  "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  template:\n    metadata: {labels: {app: db, job-name: other}}\n    spec: {containers: [{name: c, image: x}]}\n",
			want: map[string]string{"app": "db", "job-name": "other", "batch.kubernetes.io/job-name": "migrate"},
		},
		"manualSelector": {
			doc:  "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  manualSelector: true\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec: {containers: [{name: c, image: x}]}\n",
			want: map[string]string{"app": "db"},
		},
	} {
		objs, errs := Decode("job.yaml", []byte(c.doc))
		if len(errs) > 0 || len(objs) != 1 {
			t.Fatalf("%s: %v", name, errs)
		}
		LabelJobPods(objs)
		if got := objs[0].Workload.PodMeta.Labels; !maps.Equal(got, c.want) {
			t.Errorf("%s: pod labels %v, want %v", name, got, c.want)
		}
	}
}
