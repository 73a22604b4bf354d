package process

import (
	"context"
	"errors"

	"github.com/hanse-network/hanse/federation/actorpub"
	"github.com/hanse-network/hanse/federation/as2"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/follows"
)

// FollowersPage is the actorpub.Page of a local actor's followers
// collection: the IRIs of its accepted followers, newest first.
func FollowersPage(r follows.Reader) actorpub.Page {
	return collectionPage(r, r.Followers, func(c follows.Counts) int { return c.Followers })
}

// FollowingPage is the actorpub.Page of a local actor's following
// collection: the IRIs of the remote actors it follows (accepted), newest
// first.
func FollowingPage(r follows.Reader) actorpub.Page {
	return collectionPage(r, r.Following, func(c follows.Counts) int { return c.Following })
}

type listFunc func(ctx context.Context, localActorID, cursor string, limit int) (follows.Page, error)

func collectionPage(r follows.Reader, list listFunc, total func(follows.Counts) int) actorpub.Page {
	return func(ctx context.Context, owner actors.Actor, cursor string, limit int) (actorpub.PageResult, error) {
		c, err := r.Counts(ctx, owner.ID)
		if err != nil {
			return actorpub.PageResult{}, err
		}
		res := actorpub.PageResult{Total: total(c)}
		if limit <= 0 {
			return res, nil
		}
		p, err := list(ctx, owner.ID, cursor, min(limit, follows.MaxPageSize))
		if errors.Is(err, follows.ErrBadCursor) {
			return actorpub.PageResult{}, actorpub.ErrBadCursor
		}
		if err != nil {
			return actorpub.PageResult{}, err
		}
		for _, rel := range p.Items {
			res.Items = append(res.Items, as2.IRI(rel.RemoteIRI))
		}
		res.Next = p.Next
		return res, nil
	}
}
