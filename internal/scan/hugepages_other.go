//go:build !linux

package scan

// adviseHugePages does nothing where the kernel has no madvise(MADV_HUGEPAGE).
func adviseHugePages() {}
