package posts

// scope is which visibility rule a query applies.
type scope int

const (
	// publicListing: public and tag timelines list public posts only.
	publicListing scope = iota
	// forViewer: everything else (a post by id, home, community and
	// thread listings, featured posts) shows what the viewer may see.
	forViewer
)

// viewer is who reads: a local account id ("" for anonymous readers).
type viewer struct {
	id string
}

// visible is THE visibility rule, as an SQL condition on the posts table
// aliased p, with its arguments:
//
//   - deleted and removed posts are never visible;
//   - public posts are visible to everyone, and the only ones listed in
//     public and tag timelines;
//   - unlisted posts are visible to everyone by id, in threads, home and
//     community timelines;
//   - followers-only posts to their author and the people subscribed to
//     the author (source account:<id> or iri:<author IRI>);
//   - members-only posts to their author and the community's members
//     (subscribed to community:<id>);
//   - direct posts to their author and the people they mention (by the
//     actor IRI recorded for the viewer).
func (n tables) visible(s scope, v viewer) (string, []any) {
	const live = `p.deleted = 0 AND p.removed = 0`
	if s == publicListing {
		return `p.visibility = 'public' AND ` + live, nil
	}
	if v.id == "" {
		return live + ` AND p.visibility IN ('public', 'unlisted')`, nil
	}
	cond := live + ` AND (p.visibility IN ('public', 'unlisted') OR p.author_id = ?
		OR (p.visibility = 'followers' AND EXISTS (SELECT 1 FROM ` + n.subs + ` s
			WHERE s.person = ? AND s.source IN ('` + SourceAccount + `' || p.author_id, '` + SourceIRI + `' || p.author_iri)))
		OR (p.visibility = 'members' AND EXISTS (SELECT 1 FROM ` + n.subs + ` s
			WHERE s.person = ? AND s.source = '` + SourceCommunity + `' || p.community_id))
		OR (p.visibility = 'direct' AND EXISTS (SELECT 1 FROM ` + n.mentions + ` m
			WHERE m.post_id = p.id AND m.iri = (SELECT a.iri FROM ` + n.actors + ` a WHERE a.id = ?))))`
	return cond, []any{v.id, v.id, v.id, v.id}
}
