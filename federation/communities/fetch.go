package communities

import (
	"context"

	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/httpsig"
	"github.com/hanse-network/hanse/federation/moderation"
)

// Fetcher is the ObjectFetcher over the guarded fetch client: an
// ActivityPub GET signed with the instance actor's key (authorized
// fetch), refused for domains the moderation policy rejects.
type Fetcher struct {
	// Client is the guarded fetch client.
	Client *fetch.Client
	// Signer returns the instance actor's signer (signing.Keys.InstanceSigner);
	// nil or failing: unsigned GETs.
	Signer func(ctx context.Context) (httpsig.Signer, error)
	// Policy is the instance's moderation (nil: none).
	Policy moderation.Policy
}

// FetchObject implements ObjectFetcher.
func (f Fetcher) FetchObject(ctx context.Context, iri string) ([]byte, error) {
	if err := moderation.RefuseURL(ctx, f.Policy, iri); err != nil {
		return nil, err
	}
	opts := fetch.GetOptions{Accept: fetch.AcceptActivityJSON, AcceptContentType: fetch.IsActivityJSON}
	if f.Signer != nil {
		if s, err := f.Signer(ctx); err == nil {
			opts.Signer = &s
		}
	}
	body, _, err := f.Client.Get(ctx, iri, opts)
	return body, err
}
