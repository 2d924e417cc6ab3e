package testgen

import (
	"fmt"
	"math/rand/v2"
	"strings"

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

// HarmlessConfigMap is a ConfigMap of about size bytes of random lower-case words, in keys of
// at most 64 KiB (notes-0.txt, ...), none of which the credential rules flag. random makes it
// repeatable.
func HarmlessConfigMap(namespace, name string, size int, random *rand.Rand) *corev1.ConfigMap {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}, Data: map[string]string{}}
	for k := 0; size > 0; k++ {
		n := min(size, 64<<10)
		size -= n
		var sb strings.Builder
		for sb.Len() < n {
			for range 3 + random.IntN(6) {
				sb.WriteByte(letters[random.IntN(len(letters))])
			}
			sb.WriteByte(' ')
		}
		cm.Data[fmt.Sprintf("notes-%d.txt", k)] = sb.String()[:n]
	}
	return cm
}
