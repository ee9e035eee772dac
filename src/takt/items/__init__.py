"""Work items: the backlog, links, comments, history, search, board, bulk, trash."""
