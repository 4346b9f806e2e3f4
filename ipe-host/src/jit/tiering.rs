//! Tiering (filled in below).
