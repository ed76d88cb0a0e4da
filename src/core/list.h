/**
 * @file list.h  Intrusive doubly linked lists (libre's struct le).
 *
 * The list element lives inside the object; the list holds no reference
 * by itself: the owner of the list decides (and documents) whether each
 * entry is a counted reference.
 */
#ifndef IMS_CORE_LIST_H
#define IMS_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list;

struct le {
	struct le *prev;
	struct le *next;
	struct list *list;
	void *data;
};

struct list {
	struct le *head;
	struct le *tail;
	size_t n;
};

#define LIST_INIT             \
	{                     \
		NULL, NULL, 0 \
	}

#define LIST_FOREACH(lst, le) for ((le) = (lst)->head; (le); (le) = (le)->next)

void list_init(struct list *l);
void list_append(struct list *l, struct le *le, void *data);
void list_prepend(struct list *l, struct le *le, void *data);
void list_insert_after(struct list *l, struct le *at, struct le *le,
		       void *data);
void list_unlink(struct le *le);
/* mem_deref every entry's data and empty the list */
void list_flush(struct list *l);

static inline size_t list_count(const struct list *l)
{
	return l ? l->n : 0;
}

static inline void *list_head_data(const struct list *l)
{
	return l && l->head ? l->head->data : NULL;
}

#endif
