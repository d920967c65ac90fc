"""The console twin's start on Windows (ahm.exe, beside the window's account-health-monitor.exe): the command
line, as the installed `ahm` runs it; without a command it prints its help."""

from app.entry import command_line

if __name__ == "__main__":
    command_line()
