package main

import (
	"bufio"
	"fmt"
	"strings"
	"text/tabwriter"

	"safetynet/web"
)

const usersUsage = `usage:
  safetynet users add     --config FILE --name N --role admin|operator|gridworker|analyst|record_analyst [--region PREFIX] [--grid CODE] [--password-stdin]
  safetynet users list    --config FILE
  safetynet users disable --config FILE --name N
  safetynet users passwd  --config FILE --name N [--password-stdin]
  safetynet users token   --config FILE --name N     a Flight SQL token for a record-level analyst (replaces their earlier one)
Without --password-stdin a random password is made and printed once.`

func cmdUsers(c *cli, args []string) error {
	ctx := c.ctx
	if len(args) == 0 {
		return fmt.Errorf("%s", usersUsage)
	}
	verb := args[0]
	fs := c.flags("users " + verb)
	file := fs.String("config", "", "safetynet.yaml")
	name := fs.String("name", "", "user name")
	role := fs.String("role", "", "admin, operator, gridworker, analyst (aggregates only) or record_analyst")
	region := fs.String("region", "", "operators: the region-code prefix they work on")
	grid := fs.String("grid", "", "grid workers: their grid's code")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	password := func() (string, bool, error) {
		if !*fromStdin {
			return web.RandomPassword(), true, nil
		}
		line, err := bufio.NewReader(c.in).ReadString('\n')
		if err != nil && line == "" {
			return "", false, fmt.Errorf("no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), false, nil
	}
	if verb != "list" && *name == "" {
		return fmt.Errorf("--name is needed\n%s", usersUsage)
	}
	chain, err := c.open(*file)
	if err != nil {
		return err
	}
	defer c.done(chain)
	db := chain.DB
	switch verb {
	case "add":
		pw, made, err := password()
		if err != nil {
			return err
		}
		if err := web.CreateUser(ctx, db, web.NewUser{Name: *name, Password: pw, Role: web.Role(*role), Region: *region, Grid: *grid}); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "user %s added as %s\n", *name, *role)
		if made {
			fmt.Fprintf(c.out, "password: %s (shown once; they should change it)\n", pw)
		}
	case "list":
		users, err := web.ListUsers(ctx, db)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tREGION\tGRID\tSTATE\tCREATED\tLAST LOGIN")
		for _, u := range users {
			state, last := "active", "never"
			if u.Disabled {
				state = "disabled"
			}
			if u.LastLogin.Valid {
				last = u.LastLogin.Time.In(chain.Cfg.Location).Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, u.RegionPrefix, u.Grid, state, u.Created.In(chain.Cfg.Location).Format("2006-01-02"), last)
		}
		return tw.Flush()
	case "disable":
		if err := web.DisableUser(ctx, db, *name); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "user %s disabled and logged out everywhere\n", *name)
	case "passwd":
		pw, made, err := password()
		if err != nil {
			return err
		}
		if err := web.SetPassword(ctx, db, *name, pw); err != nil {
			return err
		}
		fmt.Fprintf(c.out, "password of %s changed; their sessions are ended\n", *name)
		if made {
			fmt.Fprintf(c.out, "password: %s (shown once)\n", pw)
		}
	case "token":
		token, err := web.NewToken(ctx, db, *name)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "Token of %s, for Flight SQL (an analyst) or the forwarded records (a peer instance); shown once, their earlier token no longer works:\n%s\n", *name, token)
	default:
		return fmt.Errorf("unknown verb %q\n%s", verb, usersUsage)
	}
	return nil
}
