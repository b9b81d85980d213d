"""Support tickets: candidates ask for help during an exam or outside one, staff answer."""
