package events

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// Upcaster turns the JSON payload of schema version v into version v+1.
type Upcaster func(data []byte) ([]byte, error)

type typeEntry struct {
	name      string
	version   int
	goType    reflect.Type
	upcasters map[int]Upcaster // keyed by the version they upgrade from
}

// Registry maps explicit event type names to payload Go types and schema
// versions. Type names are given by the caller, never derived from Go
// reflection, so renaming a Go type cannot rename an event type.
type Registry struct {
	mu     sync.RWMutex
	byName map[string]*typeEntry
	byType map[reflect.Type]*typeEntry
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byName: map[string]*typeEntry{}, byType: map[reflect.Type]*typeEntry{}}
}

// Register declares that events of type name carry payload T at schema
// version version (≥ 1). upcasters maps each older version v to the function
// that upgrades it to v+1; every version from 1 to version-1 needs one.
// Registering a name or Go type twice panics: it is a programming error.
func Register[T any](r *Registry, name string, version int, upcasters map[int]Upcaster) {
	if err := ValidateTypeName(name); err != nil {
		panic(err)
	}
	if version < 1 {
		panic(fmt.Sprintf("events: %s: schema version %d < 1", name, version))
	}
	for v := 1; v < version; v++ {
		if upcasters[v] == nil {
			panic(fmt.Sprintf("events: %s: no upcaster from version %d to %d", name, v, v+1))
		}
	}
	goType := reflect.TypeOf((*T)(nil)).Elem()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.byName[name]; dup {
		panic(fmt.Sprintf("events: type %q registered twice", name))
	}
	if prev, dup := r.byType[goType]; dup {
		panic(fmt.Sprintf("events: Go type %v already registered as %q", goType, prev.name))
	}
	e := &typeEntry{name: name, version: version, goType: goType, upcasters: upcasters}
	r.byName[name] = e
	r.byType[goType] = e
}

// Names lists the registered type names in sorted order.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Known reports whether a type name is registered.
func (r *Registry) Known(name string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.byName[name]
	return ok
}

// NewEvent builds EventData for a registered payload: its type name, its
// JSON encoding and the current schema version in the metadata.
func (r *Registry) NewEvent(id UUID, payload any, meta Metadata) (EventData, error) {
	t := reflect.TypeOf(payload)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	r.mu.RLock()
	entry, ok := r.byType[t]
	r.mu.RUnlock()
	if !ok {
		return EventData{}, fmt.Errorf("%w: Go type %v is not registered", ErrUnknownEventType, t)
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return EventData{}, fmt.Errorf("events: encode %s: %w", entry.name, err)
	}
	meta.SchemaVersion = entry.version
	return EventData{ID: id, Type: entry.name, Data: data, Metadata: meta}, nil
}

// Decode returns the payload of a recorded event as a pointer to its
// registered Go type, upcasting older schema versions first. Events written
// without a schema version count as version 1.
func (r *Registry) Decode(e Envelope) (any, error) {
	r.mu.RLock()
	entry, ok := r.byName[e.Type]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q at position %d", ErrUnknownEventType, e.Type, e.Position)
	}
	data := e.Data
	version := e.Metadata.SchemaVersion
	if version == 0 {
		version = 1
	}
	if version > entry.version {
		return nil, fmt.Errorf("events: %s at position %d has schema version %d, newer than this build's %d",
			e.Type, e.Position, version, entry.version)
	}
	for ; version < entry.version; version++ {
		var err error
		if data, err = entry.upcasters[version](data); err != nil {
			return nil, fmt.Errorf("events: upcast %s v%d at position %d: %w", e.Type, version, e.Position, err)
		}
	}
	payload := reflect.New(entry.goType).Interface()
	if err := json.Unmarshal(data, payload); err != nil {
		return nil, fmt.Errorf("events: decode %s at position %d: %w", e.Type, e.Position, err)
	}
	return payload, nil
}
