package testgen

import (
	"fmt"
	"math/rand/v2"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LargeConfigMap is a ConfigMap of 15 random printable values of 64 KiB, each after
// "password=": just under the API server's 1 MiB limit on a ConfigMap's data, and as costly as a
// ConfigMap gets for the credential rules that scan every value. random makes it repeatable.
func LargeConfigMap(namespace, name string, random *rand.Rand) *corev1.ConfigMap {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=_-:. \n"
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Data: make(map[string]string, 15)}
	for k := range 15 {
		v := make([]byte, 64<<10)
		for j := range v {
			v[j] = chars[random.IntN(len(chars))]
		}
		cm.Data[fmt.Sprintf("key-%d", k)] = "password=" + string(v)
	}
	return cm
}
