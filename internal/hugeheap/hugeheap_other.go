//go:build !linux

package hugeheap

// adviseHugePages does nothing where the kernel has no madvise(MADV_HUGEPAGE).
func adviseHugePages() (reserved bool) { return false }
