// Package urls owns Hanse's URL scheme for federation: the IRIs of local
// actors and their collections, key ids, the shared inbox, HTML profile
// pages, WebFinger handles and the discovery endpoints, all pure functions
// of the instance's public base URL. Every other package builds and parses
// these URLs through it, so the scheme is decided in one place:
//
//	Person        {base}/users/{username}
//	Group         {base}/communities/{username}
//	Organization  {base}/organizations/{username}
//	Application   {base}/actor  (the instance actor)
//	collections   {actor}/inbox, /outbox, /followers, /following, /featured
//	shared inbox  {base}/inbox
//	HTML profile  {base}/@{username}
//	key id        {actor}#main-key (generation 1), {actor}#key-{n} (n > 1)
//	handle        {username}@{host[:port]} (a non-default port is kept)
//	post          {author actor IRI}/posts/{id}, its Create …/posts/{id}/activity
//	featured      {group}/featured (the Group's pinned posts)
//	Group's activities about a post (FEP-1b12)
//	              {group}/announces/{post id}/{create|object|delete|removal|undo}
//	              {group}/announces/{post id}/update/{tag}
//	media         {base}/media/{id}
//	hashtag page  {base}/tags/{tag}
package urls
