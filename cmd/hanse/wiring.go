package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hanse-network/hanse/events"
	"github.com/hanse-network/hanse/events/esdb"
	"github.com/hanse-network/hanse/events/sqlite"
	"github.com/hanse-network/hanse/federation/actorpub"
	fedcommunities "github.com/hanse-network/hanse/federation/communities"
	"github.com/hanse-network/hanse/federation/delivery"
	"github.com/hanse-network/hanse/federation/discovery"
	"github.com/hanse-network/hanse/federation/fetch"
	"github.com/hanse-network/hanse/federation/inbox"
	fedmoderation "github.com/hanse-network/hanse/federation/moderation"
	"github.com/hanse-network/hanse/federation/notedocs"
	"github.com/hanse-network/hanse/federation/outbound"
	"github.com/hanse-network/hanse/federation/postdocs"
	"github.com/hanse-network/hanse/federation/process"
	"github.com/hanse-network/hanse/federation/resolve"
	"github.com/hanse-network/hanse/federation/signing"
	"github.com/hanse-network/hanse/federation/urls"
	"github.com/hanse-network/hanse/internal/app"
	"github.com/hanse-network/hanse/internal/config"
	"github.com/hanse-network/hanse/internal/domain/actor"
	"github.com/hanse-network/hanse/internal/httpapi"
	mediastore "github.com/hanse-network/hanse/internal/media"
	"github.com/hanse-network/hanse/projections"
	"github.com/hanse-network/hanse/projections/accounts"
	"github.com/hanse-network/hanse/projections/activity"
	"github.com/hanse-network/hanse/projections/actors"
	"github.com/hanse-network/hanse/projections/communities"
	pmoderation "github.com/hanse-network/hanse/projections/moderation"
	"github.com/hanse-network/hanse/projections/notes"
	"github.com/hanse-network/hanse/projections/posts"
	"github.com/hanse-network/hanse/projections/remoteactors"
	"github.com/hanse-network/hanse/projections/tokens"
)

// services is everything "hanse serve" runs, built from configuration by
// buildServices and run by runServices.
type services struct {
	// store is the event store; it is closed last.
	store events.Store
	// metrics is the registry behind GET /metrics; features register
	// their collectors on it.
	metrics *prometheus.Registry
	// handler is the HTTP router.
	handler http.Handler
	// workers run beside the HTTP server until shutdown (projection runner,
	// reactors, delivery). A worker must return soon after its context
	// ends; returning earlier is a failure that stops the server.
	workers []worker
	// closers release resources after HTTP and workers have stopped, in
	// reverse order of registration.
	closers []closer
}

type worker struct {
	name string
	run  func(context.Context) error
}

type closer struct {
	name  string
	close func() error
}

// addWorker registers a background worker.
func (s *services) addWorker(name string, run func(context.Context) error) {
	s.workers = append(s.workers, worker{name: name, run: run})
}

// onClose registers a resource to release at shutdown.
func (s *services) onClose(name string, f func() error) {
	s.closers = append(s.closers, closer{name: name, close: f})
}

// close releases every resource in reverse order of registration.
func (s *services) close(log *slog.Logger) error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		c := s.closers[i]
		if err := c.close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", c.name, err))
			continue
		}
		log.Debug("closed", "resource", c.name)
	}
	s.closers = nil
	return errors.Join(errs...)
}

// buildServices opens the event store and builds the router and metrics
// from cfg. On failure it releases whatever it had opened.
//
// New features are wired here: open their state, register workers with
// addWorker, resources with onClose, collectors on metrics, and routes in
// the router's Mount hook.
func buildServices(ctx context.Context, cfg config.Serve, log *slog.Logger) (_ *services, err error) {
	svc := &services{}
	defer func() {
		if err != nil {
			err = errors.Join(err, svc.close(log))
		}
	}()

	store, err := openStore(ctx, cfg.Store, log)
	if err != nil {
		return nil, err
	}
	svc.store = store
	svc.onClose("event store", store.Close) // registered first: closed last

	svc.metrics = prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := svc.metrics.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}

	scheme, err := urls.New(cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("public URL: %w", err)
	}
	// Personal data (names, e-mail, posts) is sealed with per-person data
	// keys under the master key; read models decrypt it with them.
	keyring, personalData, err := openPersonalData(cfg.Store, cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	log.Info("master key loaded", "source", keyring.Source())
	svc.onClose("personal data keys", personalData.Close)
	// The inbox processor is a reactor (received activities → follow
	// commands): it runs only in serve, where its dependencies exist.
	inboxProcessor := process.New(scheme, log)
	moderationProcessor := fedmoderation.NewProcessor(scheme, log)
	// The outbound projector turns events into activities and durable
	// delivery records; it wakes the delivery workers (built below).
	var deliveries *delivery.Workers
	outboundProjector := outbound.New(scheme, outbound.Options{Opener: personalData, Notify: func() {
		if deliveries != nil {
			deliveries.Notify()
		}
	}})
	// Communities' reactors (FEP-1b12): received posts into Groups,
	// remote follows ↔ memberships, the Group announcing its posts.
	communityReactors := fedcommunities.New(scheme, log)
	runner, err := newProjectionRunner(store, cfg.Store, log, svc.metrics, personalData,
		append([]projections.Projector{inboxProcessor, outboundProjector, moderationProcessor,
			posts.New(personalData, posts.ActorIRIs(scheme.Actor), posts.PostIRIs(urls.PostIRI))}, communityReactors.Projectors()...)...)
	if err != nil {
		return nil, err
	}
	// Closed by the closers, after every worker (the delivery workers
	// included) has stopped writing to the read-model database.
	svc.onClose("projections", runner.Close)
	svc.addWorker("projections", func(ctx context.Context) error {
		if err := runner.Start(ctx); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	})
	if err := delivery.EnsureSchema(ctx, runner.DB()); err != nil {
		return nil, fmt.Errorf("delivery schema: %w", err)
	}
	activityFeed := activity.NewReader(runner.DB().Reader())
	modPolicy := fedmoderation.ReadModelPolicy{Reader: pmoderation.NewReader(runner.DB())}
	inboxProcessor.SetPolicy(modPolicy)

	registry := events.NewRegistry()
	actor.Register(registry)
	public, err := url.Parse(cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("public URL: %w", err)
	}
	actorCommands := app.NewActors(store, registry, keyring, public.Host)
	if _, _, err := actorCommands.EnsureInstanceActor(ctx, public.Hostname()); err != nil {
		return nil, fmt.Errorf("instance actor: %w", err)
	}
	actorDirectory := actors.NewReader(runner.DB())

	// Federation: signed fetches of remote actors, the inbox, follows.
	keys := signing.New(actorDirectory, keyring, scheme)
	allow, err := fetch.ParseAllowList(cfg.AllowPrivateNetworks)
	if err != nil {
		return nil, fmt.Errorf("allow-private-networks: %w", err)
	}
	if len(allow) > 0 {
		log.Warn("outbound federation may reach private networks", "allow", cfg.AllowPrivateNetworks)
	}
	fedClient := fetch.New(fetch.Options{Guard: &fetch.Guard{Allow: allow}, InstanceURL: cfg.PublicURL, Version: releaseVersion()})
	remoteCommands := app.NewRemote(store, registry, public.Host)
	resolver := resolve.New(resolve.Options{
		Client: fedClient, Signer: keys.InstanceSigner, Recorder: remoteCommands,
		Directory: remoteactors.NewReader(runner.DB()), Local: actorDirectory, Scheme: scheme,
		PlainHTTPPeers: public.Scheme == "http", Logger: log, Policy: modPolicy,
	})
	inboxHandler := inbox.New(scheme, actorDirectory, resolver, remoteCommands, inbox.Options{Logger: log,
		Rate: float64(cfg.InboxRate), Burst: cfg.InboxBurst, Policy: modPolicy})
	followWiring, err := process.Wire(inboxProcessor, store, registry, runner.DB(), scheme, resolver, personalData, public.Host)
	if err != nil {
		return nil, fmt.Errorf("inbox processor: %w", err)
	}
	modWiring, err := fedmoderation.Wire(moderationProcessor, store, registry, runner.DB(), followWiring.Directory, public.Host)
	if err != nil {
		return nil, fmt.Errorf("moderation processor: %w", err)
	}
	deliveries = delivery.New(runner.DB(), keys, fedClient, delivery.Options{Logger: log,
		Global: cfg.DeliveryConcurrency, PerHost: cfg.DeliveryPerHost, Policy: modPolicy, Actors: resolver})
	if err := registerDeliveryMetrics(svc.metrics, deliveries); err != nil {
		return nil, err
	}
	svc.addWorker("delivery", deliveries.Run)
	noteCommands := app.NewNotes(store, registry, public.Host)
	// Federation reads honour Hanse-Min-Position against the actors read
	// model, so a client that just created an actor can fetch it.
	awaitActors := httpapi.AwaitPosition(runner, actors.Name, 0)
	noteReader := notes.NewReader(runner.DB())
	postReader := posts.NewReader(runner.DB())
	disc := discovery.New(scheme, actorDirectory, releaseVersion(), discovery.Options{Logger: log,
		OpenRegistrations: cfg.Registrations == config.RegistrationsOpen,
		LocalPosts: func(ctx context.Context) (int, error) {
			n, err := noteReader.Count(ctx)
			if err != nil {
				return 0, err
			}
			p, err := postReader.CountLocal(ctx)
			if errors.Is(err, projections.ErrNotLive) {
				p, err = 0, nil // the posts read model is still being built
			}
			return n + p, err
		}})
	noteDocs := notedocs.New(scheme, actorDirectory, noteReader, notedocs.Options{Logger: log})
	postDocs := postdocs.New(scheme, actorDirectory, postdocs.NewPostsReader(postReader),
		postdocs.Options{Logger: log})
	pub := actorpub.New(scheme, actorDirectory, actorpub.Options{Logger: log, Collections: map[urls.Collection]actorpub.Page{
		urls.Followers: followWiring.Followers, urls.Following: followWiring.Following,
		urls.Outbox: postDocs.Outbox(noteDocs.Outbox), urls.Featured: postDocs.Featured(),
	}})

	// People and learning communities: accounts, sign-in, communities.
	accountCommands := app.NewAccounts(store, registry, actorCommands, personalData, personalData,
		keyring.DeriveKey(app.EmailDigestPurpose), public.Host)
	oauthCommands := app.NewOAuth(store, registry, accountCommands, public.Host)
	communityCommands := app.NewCommunities(store, registry, actorCommands, public.Host)
	accountReader := accounts.NewReader(runner.DB())
	accountRoutes := httpapi.AccountRoutes(httpapi.AccountRoutesOptions{
		Accounts: accountCommands, Tokens: oauthCommands, Registrations: cfg.Registrations == config.RegistrationsOpen,
		PublicURL: cfg.PublicURL, ActorURL: func(username string) string { return scheme.Actor(actor.KindPerson, username) },
	})
	oauthRoutes := httpapi.OAuthRoutes(httpapi.OAuthDeps{OAuth: oauthCommands, Accounts: accountCommands,
		PublicURL: cfg.PublicURL, Tokens: tokens.NewReader(runner.DB()), Waiter: runner,
		FormKey: keyring.DeriveKey("hanse oauth form v1"), SignIn: httpapi.PerMinute(cfg.SignInRate)})
	communityRoutes := httpapi.CommunityRoutes(communityCommands, communities.NewReader(runner.DB()),
		httpapi.AwaitPosition(runner, communities.Name, 0))
	mediaFiles, err := mediastore.New(cfg.Store.DataDir, mediastore.Options{MaxBytes: int64(cfg.MediaMaxMB) << 20})
	if err != nil {
		return nil, fmt.Errorf("media store: %w", err)
	}
	mediaCommands := app.NewMedia(store, registry, mediaFiles, personalData, public.Host)
	accountCommands.Purgers = append(accountCommands.Purgers, mediaCommands, forgetTokens{oauthCommands})
	postCommands := app.NewPosts(store, registry, personalData, communityCommands, public.Host)
	postCommands.LocalPostID = scheme.PostID
	postCommands.Audience = app.ActorAudience{Actors: followWiring.Directory, Follows: followWiring.Commands}
	if err := fedcommunities.Wire(communityReactors, fedcommunities.WireDeps{
		Posts: postCommands, Communities: communityCommands, Follows: followWiring.Commands,
		Local: followWiring.Directory, Following: followWiring.Follows,
		Fetch: fedcommunities.Fetcher{Client: fedClient, Signer: keys.InstanceSigner, Policy: modPolicy},
	}); err != nil {
		return nil, fmt.Errorf("community reactors: %w", err)
	}
	postRoutes := httpapi.PostRoutes(httpapi.PostRoutesOptions{Commands: postCommands, Reader: postReader,
		Mentions: mentionResolver{resolver: resolver, host: scheme.Host()},
		Reads:    httpapi.AwaitPosition(runner, posts.Name, 0), MediaURL: scheme.Media,
		Links: func(p posts.Post) (string, string) {
			if p.ObjectIRI != "" {
				return p.ObjectIRI, p.URL
			}
			iri := urls.PostIRI(p.AuthorIRI, p.ID)
			return iri, iri
		},
		PostRateLimit: httpapi.RateLimit(httpapi.AccountKey, float64(cfg.PostRate)/60, cfg.PostRate),
	})
	mediaRoutes := httpapi.MediaRoutes(httpapi.MediaRoutesOptions{Commands: mediaCommands,
		MaxUploadBytes: mediaFiles.MaxBytes(), MediaURL: scheme.Media})

	svc.handler = httpapi.NewRouter(httpapi.Deps{
		Logger:     log,
		AdminToken: cfg.AdminToken,
		Admin: func(r chi.Router) {
			r.Method(http.MethodGet, strings.TrimPrefix(httpapi.AdminActivityPath, httpapi.AdminPrefix),
				httpapi.AwaitPosition(runner, activity.Name, 0)(httpapi.AdminActivityHandler(activityFeed)))
			httpapi.AdminActorRoutes(actorCommands, scheme)(r)
			httpapi.AdminFollowRoutes(followWiring.Commands, followWiring.Follows, resolver)(r)
			httpapi.AdminNoteRoutes(noteCommands)(r)
			httpapi.AdminAccountRoutes(accountCommands, accountReader, httpapi.AwaitPosition(runner, accounts.Name, 0))(r)
			httpapi.AdminModerationRoutes(modWiring.Commands, modWiring.Reader, httpapi.AwaitPosition(runner, pmoderation.Name, 0))(r)
			r.Method(http.MethodGet, strings.TrimPrefix(httpapi.AdminDeliveriesPath, httpapi.AdminPrefix),
				httpapi.AdminDeliveriesHandler(runner.DB().Reader()))
		},
		Mount: func(r chi.Router) {
			disc.Register(r.With(awaitActors))
			pub.Register(r.With(awaitActors))
			noteDocs.Register(r.With(httpapi.AwaitPosition(runner, notes.Name, 0)))
			postDocs.Register(r.With(httpapi.AwaitPosition(runner, posts.Name, 0)))
			inboxHandler.Register(r)
			accountRoutes(r)
			oauthRoutes(r)
			communityRoutes(r)
			postRoutes(r)
			mediaRoutes(r)
		},
		Auth: httpapi.BearerAuth(oauthCommands),
		Ready: func(ctx context.Context) error {
			if _, err := store.Head(ctx); err != nil {
				return fmt.Errorf("event store: %w", err)
			}
			// The read models' tables exist only once the runner has set
			// them up; the server listens before that.
			if !runner.Started() {
				return errors.New("projections: still being set up")
			}
			return nil
		},
		Metrics: promhttp.HandlerFor(svc.metrics, promhttp.HandlerOpts{
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}),
	})
	return svc, nil
}

// openStore opens the event store selected by cfg.
func openStore(ctx context.Context, cfg config.Store, log *slog.Logger) (events.Store, error) {
	switch cfg.Kind {
	case config.StoreSQLite:
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		path := cfg.SQLitePath()
		store, err := sqlite.Open(path, sqlite.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("open embedded event store %s: %w", path, err)
		}
		log.Info("event store opened", "store", config.StoreSQLite, "path", path)
		return store, nil
	case config.StoreESDB:
		// The connection string is not logged: it may carry credentials.
		store, err := esdb.Open(ctx, cfg.ESDBURL, esdb.Options{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("connect to EventStoreDB: %w", err)
		}
		log.Info("event store opened", "store", config.StoreESDB)
		return store, nil
	}
	return nil, fmt.Errorf("unknown event store %q", cfg.Kind)
}

// mentionResolver resolves the "@user" and "@user@host" handles of new
// posts to actor IRIs: a bare name is a local user, others go through
// WebFinger (local handles are answered from the actors read model).
type mentionResolver struct {
	resolver *resolve.Resolver
	host     string
}

// Resolve implements app.MentionResolver.
func (m mentionResolver) Resolve(ctx context.Context, handle string) (string, error) {
	h := strings.TrimPrefix(handle, "@")
	if !strings.Contains(h, "@") {
		h += "@" + m.host
	}
	return m.resolver.ResolveHandle(ctx, h)
}

// forgetTokens drops an erased account's tokens from the token cache at
// once (they are refused anyway once the cache entry expires).
type forgetTokens struct{ oauth *app.OAuth }

// PurgeAccount implements app.AccountPurger.
func (f forgetTokens) PurgeAccount(_ context.Context, accountID string) error {
	f.oauth.ForgetAccount(accountID)
	return nil
}
