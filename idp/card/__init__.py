"""The member card: ciphertext the server stores and checks the shape of, never reads."""
