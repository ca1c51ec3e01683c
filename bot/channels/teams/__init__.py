"""Microsoft Teams: Adaptive Cards and the app manifest (shared), and one module per SDK (`botbuilder`)."""
