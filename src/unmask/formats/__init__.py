"""Format readers: the bottom layer below acquisitions and parsers; they import nothing from unmask but errors and timeutil."""
