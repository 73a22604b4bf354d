package moderation

// Decision is what the instance's policy says about a host.
type Decision string

// Decisions, from mildest to strictest.
const (
	// Allow: federate normally.
	Allow Decision = "allow"
	// Silence: accept and record the host's activities, but let them
	// create no relationships (see SeveritySilence).
	Silence Decision = "silence"
	// Reject: refuse the host's activities and deliver nothing to it.
	Reject Decision = "reject"
)

// Block is one domain block.
type Block struct {
	Severity       Severity
	PublicComment  string
	PrivateComment string
}

// Rules are the instance's federation policy, folded from InstanceStream
// (or, in a read model, the subset of it relevant to one host).
type Rules struct {
	// Blocks by normalised domain.
	Blocks map[string]Block
	// AllowlistMode: only allowed domains may federate.
	AllowlistMode bool
	// Allowed holds the allow-list's normalised domains.
	Allowed map[string]bool
}

// Decide says what the policy makes of host (a host name, with or without
// port): the most specific block covering host gives its severity; then,
// in allow-list mode, a host no allowed domain covers is rejected (so a
// silence of a host outside the allow-list is still a rejection, while a
// block of an allowed host's subdomain applies). Everything else is
// allowed. A host that is not a valid domain name is rejected in
// allow-list mode and allowed otherwise.
func (r Rules) Decide(host string) Decision {
	cands := Candidates(host)
	d := Allow
	for _, c := range cands {
		if b, ok := r.Blocks[c]; ok {
			if b.Severity == SeverityReject {
				d = Reject
			} else {
				d = Silence
			}
			break
		}
	}
	if !r.AllowlistMode || d == Reject {
		return d
	}
	for _, c := range cands {
		if r.Allowed[c] {
			return d
		}
	}
	return Reject
}
