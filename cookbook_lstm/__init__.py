"""The support code of the LSTM recipes: everything but the book's model (lstm_model.py)
and the scripts (recipes/, tools/). Each module says what it owns."""
