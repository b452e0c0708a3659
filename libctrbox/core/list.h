/* The one list idiom inside libctrbox: an intrusive doubly linked list reached through a head
 * pointer. An element type has `prev` and `next` pointers to its own type; head is an lvalue
 * (a struct field or a variable) that points to the first element or is NULL. */
#ifndef CTRBOX_CORE_LIST_H
#define CTRBOX_CORE_LIST_H

/* Puts e first. */
#define CTRBOX_LIST_PUSH(head, e)                                                                  \
	do {                                                                                       \
		(e)->prev = NULL;                                                                  \
		(e)->next = (head);                                                                \
		if (head)                                                                          \
			(head)->prev = (e);                                                        \
		(head) = (e);                                                                      \
	} while (0)

/* Takes e out (it must be on this list); its links are cleared. */
#define CTRBOX_LIST_UNLINK(head, e)                                                                \
	do {                                                                                       \
		if ((e)->prev)                                                                     \
			(e)->prev->next = (e)->next;                                               \
		else                                                                               \
			(head) = (e)->next;                                                        \
		if ((e)->next)                                                                     \
			(e)->next->prev = (e)->prev;                                               \
		(e)->prev = (e)->next = NULL;                                                      \
	} while (0)

#endif
