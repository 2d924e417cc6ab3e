// Package controllers holds the reconcilers: one per root kind (ComplianceProfile and
// ControlException). They gather objects from the cache, call internal/engine, and write
// ComplianceReports; they do nothing else.
package controllers
