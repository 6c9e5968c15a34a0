//! Bantam widget.
