"""Cases: the case service the conversation's effects call, and a person's home view of their cases."""
