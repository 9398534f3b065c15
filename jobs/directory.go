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
// another county issued. A hub sends each county the directories of the
// others instead. A peer that cannot take it makes the run partial; its
// records still come by the ID's region.
func (c *Chain) sendDirectories(ctx context.Context, rep *Report) {
	if len(c.Cfg.Peers) == 0 {
		return
	}
	key := os.Getenv(c.Cfg.Analytics.PseudonymKeyEnv)
	if key == "" {
		c.Log.Warn("directory not sent to the peers: no pseudonym key; their records come by the ID's region only", "env", c.Cfg.Analytics.PseudonymKeyEnv)
		return
	}
	var own forward.Dir
	if !c.Cfg.Hub { // one directory for every peer; a hub makes one for each
		var err error
		if own, err = forward.Directory(ctx, c.DB, key); err != nil {
			rep.SourceErrors = append(rep.SourceErrors, "directory: "+err.Error())
			c.Log.Error("directory not made", "err", err)
			return
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Cfg.Peers)) {
		peer := c.Cfg.Peers[name]
		c.stage(ctx, rep, "directory@"+name)
		dir := own
		if c.Cfg.Hub {
			var err error
			if dir, err = forward.HubDirectory(ctx, c.DB, key, name); err != nil {
				rep.SourceErrors = append(rep.SourceErrors, "directory@"+name+": "+err.Error())
				c.Log.Error("directory not made", "peer", name, "err", err)
				continue
			}
		}
		sent, err := forward.Send(ctx, directoryClient, forward.Offer{URL: peer.URL, Token: os.Getenv(peer.TokenEnv), Key: key}, dir)
		if err != nil {
			rep.SourceErrors = append(rep.SourceErrors, "directory@"+name+": "+err.Error())
			c.Log.Error("directory not sent", "peer", name, "err", err)
			continue
		}
		c.Log.Info("directory offered", "peer", name, "people", dir.People, "sent", sent)
	}
}
