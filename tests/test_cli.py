"""The `surveylib` command dispatches to its subcommands and reports misuse."""

from surveylib import cli


def test_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_unknown_command_exit_code(capsys):
    assert cli.main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_no_command_is_usage_error(capsys):
    assert cli.main([]) == 2


def test_verify_recomputes_published_figures_from_shipped_microdata(capsys):
    assert cli.main(["verify"]) == 0
    assert "0 failures" in capsys.readouterr().out
