package client_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/servers/fileserver"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

const fileHost = "filev2.getsession.org"

// addFileServer places a file server in the network, known to every node, and returns how
// clients address it.
func (sn *simNet) addFileServer() (onion.Server, *fileserver.Server, actor.Addr) {
	var fs *fileserver.Server
	addr, dest := sn.addServer("file-server", fileHost, func(kp cryptomode.X25519KeyPair) actor.Actor {
		fs = fileserver.New(fileserver.Config{Suite: sn.suite, Keys: kp, KeepBytes: sn.suite.Mode() == cryptomode.Real})
		return fs
	})
	return dest, fs, addr
}

// attachmentNet is a network with a file server and one client of each platform that knows it.
func attachmentNet(t *testing.T, mode cryptomode.Mode, mods ...func(*client.Config)) (*simNet, actor.Addr) {
	sn := newSimNet(t, 12, nil, mode)
	dest, _, addr := sn.addFileServer()
	for k, p := range []client.Platform{client.Desktop, client.IOS, client.Android} {
		sn.spawnClient(fmt.Sprintf("client-%d", k), p, sn.dir, sn.suite, append([]func(*client.Config){func(c *client.Config) { c.FileServer = dest }}, mods...)...)
	}
	sn.Engine.RunFor(30 * time.Second)
	return sn, addr
}

// The request to a server through a path, in real crypto through real nodes: every platform
// uploads an attachment (iOS over a file path), the message carrying its pointer is stored, and
// the recipient downloads and decrypts it.
func TestNetworkAttachmentRoundTrip(t *testing.T) {
	for _, mode := range []cryptomode.Mode{cryptomode.Real, cryptomode.Modeled} {
		t.Run(mode.String(), func(t *testing.T) {
			sn, fsAddr := attachmentNet(t, mode)
			kinds := []client.Kind{client.KindVoice, client.KindPhoto, client.KindFile}
			sizes := []int{20_000, 300_000, 1_000}
			for k := range sn.clients {
				sn.do(k, func() { require.NoError(t, sn.clients[k].SendAttachment(sn.clients[(k+1)%3].ID(), kinds[k], sizes[k])) })
			}
			sn.Engine.RunFor(time.Minute)

			up := netEvents[client.AttachmentUploaded](sn, actor.Addr{})
			require.Len(t, up, 3)
			sent := netEvents[client.MessageSent](sn, actor.Addr{})
			require.Len(t, sent, 3)
			byRef := map[string]client.MessageSent{}
			for _, s := range sent {
				byRef[s.Hash] = s
			}
			byHash := map[string]client.MessageSent{}
			for _, u := range up {
				require.Equal(t, client.OK, u.Failure)
				require.NotEmpty(t, u.Hash)
				byHash[u.Hash] = byRef[u.Ref]
				assert.Equal(t, message.EncryptedAttachmentSize(byRef[u.Ref].Body), u.Size, "the upload is the padded, encrypted file")
				assert.Equal(t, u.Kind, byRef[u.Ref].Kind)
			}
			for _, r := range netEvents[client.StoreResult](sn, actor.Addr{}) {
				assert.Contains(t, byHash, r.Hash, "the stored message is the one AttachmentUploaded names")
				assert.Equal(t, client.OK, r.Failure)
			}
			fetched := netEvents[client.AttachmentFetched](sn, actor.Addr{})
			require.Len(t, fetched, 3)
			for _, f := range fetched {
				require.Equal(t, client.OK, f.Failure, "attachment of %s", f.Hash)
				assert.Equal(t, byHash[f.Hash].Kind, f.Kind, "the recipient files it under its kind")
				assert.Equal(t, message.EncryptedAttachmentSize(byHash[f.Hash].Body), f.Size)
			}
			// iOS sends file requests over its file paths, whose guards are none of its
			// standard paths' guards.
			ios := sn.clients[1]
			paths := ios.Paths()
			fileGuards := map[actor.Addr]bool{}
			for _, p := range paths[len(paths)-client.DefaultConfig(client.IOS).FilePaths:] {
				fileGuards[p[0]] = true
			}
			for _, rt := range netEvents[client.OnionRoundTrip](sn, sn.addrs[1]) {
				if rt.Server == fileHost {
					assert.True(t, fileGuards[rt.Guard], "iOS %s went over a file path", rt.Method)
				}
			}
			served := netEvents[lsrpc.Served](sn, fsAddr)
			require.Len(t, served, 6, "three uploads and three downloads")
			for _, s := range served {
				assert.Equal(t, http.StatusOK, s.Code)
			}
		})
	}
}

// A file server that does not answer fails the upload after the retries: no message is sent,
// and the failure is reported.
func TestNetworkAttachmentUploadFails(t *testing.T) {
	sn, fsAddr := attachmentNet(t, cryptomode.Modeled, func(c *client.Config) {
		c.Attachments.Attempts, c.Attachments.Delay, c.Attachments.MaxDelay = 2, time.Second, time.Second
	})
	require.NoError(t, sn.Engine.Crash(fsAddr))
	sn.do(0, func() { require.NoError(t, sn.clients[0].SendAttachment(sn.clients[1].ID(), client.KindPhoto, 5000)) })
	sn.Engine.RunFor(2 * time.Minute)
	up := netEvents[client.AttachmentUploaded](sn, actor.Addr{})
	require.Len(t, up, 1)
	assert.NotEqual(t, client.OK, up[0].Failure)
	assert.Equal(t, 2, up[0].Attempts)
	assert.Empty(t, netEvents[client.StoreResult](sn, actor.Addr{}), "no message was stored")
	sent := netEvents[client.MessageSent](sn, actor.Addr{})
	require.Len(t, sent, 1)
	assert.Equal(t, up[0].Ref, sent[0].Hash)
	assert.Empty(t, up[0].Hash)
}

func TestSendAttachmentRefuses(t *testing.T) {
	sn := newSimNet(t, 12, []client.Platform{client.Desktop}, cryptomode.Modeled)
	sn.Engine.RunFor(time.Second)
	to := identity.Derive(1, "x").SessionID()
	for _, tc := range []struct {
		kind client.Kind
		size int
	}{{client.KindText, 10}, {client.KindPhoto, 0}, {client.KindPhoto, message.MaxAttachmentSize + 1}, {client.KindPhoto, 10}} {
		sn.do(0, func() { assert.Error(t, sn.clients[0].SendAttachment(to, tc.kind, tc.size)) })
	}
}

// An attachment sent to an offline recipient is fetched when it comes back: the message waits
// in its swarm, the file on the file server.
func TestNetworkAttachmentToOfflineRecipient(t *testing.T) {
	sn, _ := attachmentNet(t, cryptomode.Real)
	sn.do(2, sn.clients[2].GoOffline)
	sn.do(0, func() { require.NoError(t, sn.clients[0].SendAttachment(sn.clients[2].ID(), client.KindVoice, 40_000)) })
	sn.Engine.RunFor(5 * time.Minute)
	require.Len(t, netEvents[client.StoreResult](sn, sn.addrs[0]), 1)
	assert.Empty(t, netEvents[client.AttachmentFetched](sn, actor.Addr{}), "nothing fetched while offline")
	sn.do(2, sn.clients[2].GoOnline)
	sn.Engine.RunFor(time.Minute)
	fetched := netEvents[client.AttachmentFetched](sn, sn.addrs[2])
	require.Len(t, fetched, 1)
	assert.Equal(t, client.OK, fetched[0].Failure)
	assert.Equal(t, client.KindVoice, fetched[0].Kind)
}
