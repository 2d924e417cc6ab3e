package checks

import (
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"

	"github.com/soc2-operator/soc2-operator/internal/engine"
)

// argoValidatedSpec is what argoRefusal reads of a Rollout's spec: the fields Argo Rollouts'
// own validation judges from the spec alone (argo-rollouts v1.10.2
// pkg/apis/rollouts/validation/validation.go, ValidateRolloutSpec and ValidateRolloutStrategy*).
type argoValidatedSpec struct {
	MinReadySeconds      int32                 `json:"minReadySeconds"`
	RevisionHistoryLimit *int32                `json:"revisionHistoryLimit"`
	Selector             *metav1.LabelSelector `json:"selector"`
	Strategy             struct {
		Canary *struct {
			MaxSurge              *intstr.IntOrString `json:"maxSurge"`
			MaxUnavailable        *intstr.IntOrString `json:"maxUnavailable"`
			CanaryService         string              `json:"canaryService"`
			StableService         string              `json:"stableService"`
			ScaleDownDelaySeconds *int32              `json:"scaleDownDelaySeconds"`
			DynamicStableScale    bool                `json:"dynamicStableScale"`
			PingPong              *struct {
				PingService string `json:"pingService"`
				PongService string `json:"pongService"`
			} `json:"pingPong"`
			TrafficRouting *struct {
				ALB *struct {
					RootService string `json:"rootService"`
				} `json:"alb"`
				Istio *struct {
					DestinationRule map[string]any `json:"destinationRule"`
				} `json:"istio"`
				SMI              map[string]any   `json:"smi"`
				Apisix           map[string]any   `json:"apisix"`
				Ambassador       map[string]any   `json:"ambassador"`
				Nginx            map[string]any   `json:"nginx"`
				AppMesh          map[string]any   `json:"appMesh"`
				Traefik          map[string]any   `json:"traefik"`
				Plugins          map[string]any   `json:"plugins"`
				MaxTrafficWeight *int32           `json:"maxTrafficWeight"`
				ManagedRoutes    []map[string]any `json:"managedRoutes"`
			} `json:"trafficRouting"`
			Steps []struct {
				SetWeight *int32 `json:"setWeight"`
				Pause     *struct {
					Duration *intstr.IntOrString `json:"duration"`
				} `json:"pause"`
				Experiment     map[string]any `json:"experiment"`
				Analysis       map[string]any `json:"analysis"`
				SetCanaryScale map[string]any `json:"setCanaryScale"`
				SetHeaderRoute map[string]any `json:"setHeaderRoute"`
				SetMirrorRoute map[string]any `json:"setMirrorRoute"`
				Plugin         map[string]any `json:"plugin"`
			} `json:"steps"`
			AntiAffinity *argoAntiAffinity `json:"antiAffinity"`
		} `json:"canary"`
		BlueGreen *struct {
			ActiveService               string            `json:"activeService"`
			PreviewService              string            `json:"previewService"`
			ScaleDownDelayRevisionLimit *int32            `json:"scaleDownDelayRevisionLimit"`
			AntiAffinity                *argoAntiAffinity `json:"antiAffinity"`
		} `json:"blueGreen"`
	} `json:"strategy"`
}

// argoAntiAffinity is a Rollout strategy's antiAffinity.
type argoAntiAffinity struct {
	Preferred *struct {
		Weight int32 `json:"weight"`
	} `json:"preferredDuringSchedulingIgnoredDuringExecution"`
	Required map[string]any `json:"requiredDuringSchedulingIgnoredDuringExecution"`
}

// argoRefusal says why Argo Rollouts refuses Rollout o's spec (InvalidSpec: it then creates and
// scales nothing, rollout/controller.go getRolloutValidationErrors), as far as the spec alone tells,
// or "". It reads what argo-rollouts v1.10.2 ValidateRolloutSpec checks beside what
// readArgoRollout does: negative minReadySeconds or revisionHistoryLimit; for a canary, maxSurge
// and maxUnavailable both 0, the same canary and stable Service, ping-pong Services missing or the
// same, a traffic router that needs both Services without them, scaleDownDelaySeconds or
// dynamicStableScale without trafficRouting (or both with it), maxTrafficWeight with a router
// other than nginx or a plugin, and the steps: each one of setWeight, pause, experiment,
// analysis, setCanaryScale, setHeaderRoute, setMirrorRoute or plugin, at most one of the first
// four, setWeight within 0 and the maximum weight, a pause of no negative (or unreadable)
// duration, setCanaryScale only with trafficRouting, header and mirror routes only with a router
// that supports them and among the managedRoutes; for blueGreen, the same active and preview
// Service, a scaleDownDelayRevisionLimit above the revisionHistoryLimit (10 by default); an
// antiAffinity with other than exactly one of preferred and required, or a weight outside 1 to
// 100. What needs other objects (the Services, analysis templates and ingresses that must exist,
// ValidateRolloutReferencedResources) is not read: such a Rollout still counts.
func argoRefusal(o *engine.Object) string {
	var spec argoValidatedSpec
	if !readSpec(o, &spec) {
		return "its spec does not read as a Rollout's"
	}
	revisionHistoryLimit := int32(10) // defaults.GetRevisionHistoryLimitOrDefault
	if spec.RevisionHistoryLimit != nil {
		revisionHistoryLimit = *spec.RevisionHistoryLimit
	}
	switch {
	case spec.MinReadySeconds < 0:
		return "minReadySeconds is negative"
	case revisionHistoryLimit < 0:
		return "revisionHistoryLimit is negative"
	}
	if spec.Selector != nil {
		if _, err := metav1.LabelSelectorAsSelector(spec.Selector); err != nil {
			return "its selector is invalid"
		}
	}
	if bg := spec.Strategy.BlueGreen; bg != nil {
		switch {
		case bg.ActiveService == bg.PreviewService:
			return "blueGreen's activeService and previewService are the same"
		case bg.ScaleDownDelayRevisionLimit != nil && revisionHistoryLimit < *bg.ScaleDownDelayRevisionLimit:
			return "blueGreen's scaleDownDelayRevisionLimit is above the revisionHistoryLimit"
		}
		return argoAntiAffinityRefusal(bg.AntiAffinity)
	}
	c := spec.Strategy.Canary
	if c == nil {
		return ""
	}
	surge, unavailable := intstr.FromString("25%"), intstr.FromString("25%")
	if c.MaxSurge != nil {
		surge = *c.MaxSurge
	}
	if c.MaxUnavailable != nil {
		unavailable = *c.MaxUnavailable
	}
	if argoIntOrPercentValue(surge) == 0 && argoIntOrPercentValue(unavailable) == 0 {
		return "canary maxSurge and maxUnavailable are both 0"
	}
	if c.CanaryService != "" && c.CanaryService == c.StableService {
		return "canary's canaryService and stableService are the same"
	}
	tr := c.TrafficRouting
	if p := c.PingPong; p != nil {
		switch {
		case tr != nil && tr.ALB == nil && tr.Istio == nil && len(tr.Plugins) == 0:
			return "canary pingPong works with the ALB, Istio and plugin traffic routers only"
		case p.PingService == "" || p.PongService == "":
			return "canary pingPong needs both a pingService and a pongService"
		case p.PingService == p.PongService:
			return "canary pingPong's pingService and pongService are the same"
		case tr != nil && tr.ALB != nil && tr.ALB.RootService == "":
			return "canary pingPong with ALB needs a rootService"
		}
	}
	if tr != nil {
		needsServices := tr.ALB != nil && c.PingPong == nil || tr.Istio != nil && tr.Istio.DestinationRule == nil && c.PingPong == nil ||
			tr.SMI != nil || tr.Apisix != nil || tr.Ambassador != nil || tr.Nginx != nil || tr.AppMesh != nil || tr.Traefik != nil
		if needsServices && (c.StableService == "" || c.CanaryService == "") {
			return "canary trafficRouting needs both a stableService and a canaryService"
		}
	}
	if tr == nil {
		switch {
		case c.ScaleDownDelaySeconds != nil:
			return "canary scaleDownDelaySeconds needs trafficRouting"
		case c.DynamicStableScale:
			return "canary dynamicStableScale needs trafficRouting"
		}
	} else {
		switch {
		case c.ScaleDownDelaySeconds != nil && c.DynamicStableScale:
			return "canary dynamicStableScale cannot be used with scaleDownDelaySeconds"
		case tr.MaxTrafficWeight != nil && tr.Nginx == nil && len(tr.Plugins) == 0:
			return "canary maxTrafficWeight needs the nginx traffic router or a plugin"
		}
	}
	maxWeight := int32(100) // weightutil.MaxTrafficWeight
	if tr != nil && tr.MaxTrafficWeight != nil {
		maxWeight = *tr.MaxTrafficWeight
	}
	for i, s := range c.Steps {
		step := "canary step " + strconv.Itoa(i+1)
		oneOf := 0
		for _, set := range []bool{s.SetWeight != nil, s.Pause != nil, s.Experiment != nil, s.Analysis != nil} {
			if set {
				oneOf++
			}
		}
		switch {
		case oneOf > 1:
			return step + " sets more than one of setWeight, pause, experiment and analysis"
		case oneOf == 0 && s.SetCanaryScale == nil && s.SetHeaderRoute == nil && s.SetMirrorRoute == nil && s.Plugin == nil:
			return step + " sets no step type"
		case s.SetWeight != nil && (*s.SetWeight < 0 || *s.SetWeight > maxWeight):
			return step + "'s setWeight is outside 0 and " + strconv.Itoa(int(maxWeight))
		case s.Pause != nil && argoPauseSeconds(s.Pause.Duration) < 0:
			return step + "'s pause duration is negative or unreadable"
		case s.SetCanaryScale != nil && tr == nil:
			return step + "'s setCanaryScale needs trafficRouting"
		case s.SetHeaderRoute != nil && (tr == nil || tr.Istio == nil && tr.ALB == nil && tr.Apisix == nil && len(tr.Plugins) == 0):
			return step + "'s setHeaderRoute needs the Istio, ALB, Apisix or a plugin traffic router"
		case s.SetMirrorRoute != nil && (tr == nil || tr.Istio == nil && len(tr.Plugins) == 0):
			return step + "'s setMirrorRoute needs the Istio or a plugin traffic router"
		}
		for _, route := range []map[string]any{s.SetHeaderRoute, s.SetMirrorRoute} {
			if route == nil || tr == nil {
				continue
			}
			if tr.ManagedRoutes == nil {
				return step + "'s route needs trafficRouting.managedRoutes"
			}
			name, _ := route["name"].(string)
			found := false
			for _, m := range tr.ManagedRoutes {
				if n, _ := m["name"].(string); n == name {
					found = true
				}
			}
			if !found {
				return step + "'s route is not among trafficRouting.managedRoutes"
			}
		}
	}
	return argoAntiAffinityRefusal(c.AntiAffinity)
}

// argoAntiAffinityRefusal says why Argo Rollouts refuses a strategy's antiAffinity
// (ValidateRolloutStrategyAntiAffinity), or "".
func argoAntiAffinityRefusal(a *argoAntiAffinity) string {
	switch {
	case a == nil:
		return ""
	case (a.Preferred == nil) == (a.Required == nil):
		return "antiAffinity must set exactly one of preferred and required"
	case a.Preferred != nil && (a.Preferred.Weight < 1 || a.Preferred.Weight > 100):
		return "antiAffinity's weight is outside 1 and 100"
	}
	return ""
}

// argoIntOrPercentValue reads maxSurge or maxUnavailable as Argo Rollouts' validation does
// (getIntOrPercentValue): a valid percentage's number, else the value as an integer (a string
// that is not one reads as 0).
func argoIntOrPercentValue(v intstr.IntOrString) int {
	if v.Type == intstr.String && len(utilvalidation.IsValidPercent(v.StrVal)) == 0 {
		n, _ := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
		return n
	}
	return v.IntValue()
}

// argoPauseSeconds reads a pause step's duration as Argo Rollouts does
// (RolloutPause.DurationSeconds): seconds, or a Go duration, -1 when it reads as neither; 0 when
// unset (an indefinite pause).
func argoPauseSeconds(d *intstr.IntOrString) int32 {
	if d == nil {
		return 0
	}
	if d.Type != intstr.String {
		return d.IntVal
	}
	if s, err := strconv.ParseInt(d.StrVal, 10, 32); err == nil {
		return int32(s)
	}
	dur, err := time.ParseDuration(d.StrVal)
	if err != nil {
		return -1
	}
	return int32(dur.Seconds())
}

// argoSelectorRefuses reports whether a Rollout's own selector, which a workloadRef leaves in
// place (templateref.go Resolve sets the referenced workload's only when it is unset), does not
// select the labels of the template it resolves: ValidatePodTemplateSpecForReplicaSet refuses it
// (selector does not match template labels). An empty selector selects everything.
func argoSelectorRefuses(r *argoRollout, templateLabels map[string]string) bool {
	if r.selector == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(r.selector)
	return err != nil || !sel.Empty() && !sel.Matches(labels.Set(templateLabels))
}
