"""Operations: job runner (cron + trigger), env file, crontab, health, metrics.

Everything the hosts need to run the jobs on a schedule and to watch them, kept apart from the
jobs themselves so the Fly container and the home VM run the same code, configured by settings.
"""
