package esdb

// ClientReplacements reports how often s replaced a client that had given
// up reconnecting.
func ClientReplacements(s *Store) int64 { return s.replacements.Load() }
