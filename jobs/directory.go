package jobs

import (
	"context"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"safetynet/forward"
)

// directoryClient sends the directories; a province's registry is sent
// in well under this.
var directoryClient = &http.Client{Timeout: 10 * time.Minute}

// sendDirectories sends each peer this instance's directory, when the
// peer does not hold it already, before the run pulls from it, so that
// the peer forwards the records of the people registered here whose IDs
// another county issued; after the first, as the change from the one
// the peer holds (forward.Send). A hub sends the counties' directories
// instead (forward.HubDirectory). A peer that cannot take it makes the
// run partial; its records still come by the ID's region.
func (c *Chain) sendDirectories(ctx context.Context, rep *Report) {
	if len(c.Cfg.Peers) == 0 {
		return
	}
	key := os.Getenv(c.Cfg.Analytics.PseudonymKeyEnv)
	if key == "" {
		c.Log.Warn("directory not sent to the peers: no pseudonym key; their records come by the ID's region only", "env", c.Cfg.Analytics.PseudonymKeyEnv)
		return
	}
	makeDir := forward.Directory
	if c.Cfg.Hub {
		makeDir = forward.HubDirectory
	}
	dir, err := makeDir(ctx, c.DB, key)
	if err != nil {
		rep.SourceErrors = append(rep.SourceErrors, "directory: "+err.Error())
		c.Log.Error("directory not made", "err", err)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(c.Cfg.Peers)) {
		peer := c.Cfg.Peers[name]
		c.stage(ctx, rep, "directory@"+name)
		sent, err := forward.Send(ctx, c.DB, directoryClient, forward.Offer{Peer: name, URL: peer.URL, Token: os.Getenv(peer.TokenEnv), Key: key}, dir)
		if err != nil {
			rep.SourceErrors = append(rep.SourceErrors, "directory@"+name+": "+err.Error())
			c.Log.Error("directory not sent", "peer", name, "err", err)
			continue
		}
		c.Log.Info("directory offered", "peer", name, "people", dir.People, "sent", sent.Went(), "whole", sent.Whole, "added", sent.Added, "removed", sent.Removed)
	}
}
