// Package archtest owns the executable form of the design brief's
// dependency rules: which package may import which (events imports only
// the standard library, stores only their driver, app and projections never
// each other, only cmd picks a store implementation, nothing imports cmd or
// httpapi but cmd), that every package has a doc.go, and the repository
// conventions that keep the README and CI script in step.
//
// The rules govern non-test code: test files and helper packages whose
// name ends in "test" (events/storetest, …) may import store
// implementations. Run "go test ./internal/archtest" after adding a package
// or an import.
package archtest
