// Package signing gives federation code the HTTP-signature signer of a
// local actor: it reads the actor's current key from the actors read
// model, opens the sealed private key with the instance master key, and
// caches the parsed key per key generation, so a rotation takes effect at
// once and RSA keys are not parsed on every delivery.
package signing
