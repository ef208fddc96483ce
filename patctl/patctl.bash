# patctl.bash - bash completion for patctl: commands, options, and role
# names asked of patd (patctl --json role list).  Installed by make install
# as $(PREFIX)/share/bash-completion/completions/patctl.

# Role names from patd, one a line; nothing when patd cannot be reached.
_patctl_roles()
{
	"${COMP_WORDS[0]}" --json --timeout 2000 role list 2>/dev/null |
	    tr ',' '\n' | sed -n 's/^.*"name":"\([A-Za-z0-9._-]*\)".*$/\1/p'
}

_patctl()
{
	local cur prev cmd sub i w
	local globals="--json --socket --socket-owner --timeout --auth-from-stdin --help --version"
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	COMPREPLY=()

	# the command (and role's subcommand): the first words that are not
	# options or their values
	cmd= sub=
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--socket|--socket-owner|--timeout) ((i++)); continue ;;
		-*) continue ;;
		esac
		if [[ -z $cmd ]]; then cmd=$w
		elif [[ $cmd == role && -z $sub ]]; then sub=$w; break
		else break
		fi
	done

	case $prev in
	--socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--socket-owner|--user) COMPREPLY=($(compgen -u -- "$cur")); return ;;
	--group) COMPREPLY=($(compgen -g -- "$cur")); return ;;
	--role) COMPREPLY=($(compgen -W "$(_patctl_roles)" -- "$cur")); return ;;
	--expires) COMPREPLY=($(compgen -W "30m 12h 1d 7d 30d 90d 1y never" -- "$cur")); return ;;
	--max-lifetime|--default-lifetime|--max-idle)
		COMPREPLY=($(compgen -W "1d 7d 30d 60d 90d 1y" -- "$cur")); return ;;
	--timeout|--name|--perm|--expiring) return ;;
	esac

	local opts=
	case $cmd in
	"") COMPREPLY=($(compgen -W "login logout whoami perms create list show revoke rotate verify scan role grant ungrant status $globals" -- "$cur"))
	    return ;;
	create) opts="--role --name --expires --user --from --service --uses --parent-from-stdin" ;;
	list) opts="--user --all --active --expiring" ;;
	revoke) opts="--all --user --yes --token-from-stdin" ;;
	scan)
		if [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
			return
		fi
		opts="--revoke" ;;
	verify) opts="--user --perm" ;;
	grant|ungrant)
		if [[ $cur != -* && $prev == "$cmd" ]]; then
			COMPREPLY=($(compgen -W "$(_patctl_roles)" -- "$cur"))
			return
		fi
		opts="--user --group" ;;
	role)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "list show set delete --help" -- "$cur"))
			return
		fi
		if [[ $cur != -* && $prev == "$sub" && $sub != list ]]; then
			COMPREPLY=($(compgen -W "$(_patctl_roles)" -- "$cur"))
			return
		fi
		[[ $sub == set ]] && opts="--max-lifetime --default-lifetime --max-idle" ;;
	esac
	COMPREPLY=($(compgen -W "$opts $globals" -- "$cur"))
}
complete -F _patctl patctl
