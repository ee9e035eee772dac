"""Retrospectives: phases, anonymous cards, groups, budgeted votes, action items, evidence cards."""
